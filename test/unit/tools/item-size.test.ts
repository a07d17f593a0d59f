import { describe, expect, it } from 'vitest';
import {
  attributeValueSize,
  type IndexDefinition,
  type Item,
  itemSize,
  numberSize,
  readUnitsOfQuery,
  readUnitsPerItem,
  unitsFor,
  writeUnits,
} from '../../../tools/bench/item-size.js';

const TABLE = { partition: 'pk', sort: 'sk' };
const PENDING: IndexDefinition = { name: 'pending', partition: 'gsi1pk', sort: 'gsi1sk', projected: [] };
const S = (s: string) => ({ S: s });

/** An item of exactly `bytes` bytes: pk "p" + sk "s" (4 bytes) plus a padding string attribute "x". */
function itemOfSize(bytes: number, extra: Item = {}): Item {
  const base: Item = { pk: S('p'), sk: S('s'), ...extra };
  const pad = bytes - itemSize(base) - 1;
  if (pad < 0) throw new Error('too small');
  return { ...base, x: S('a'.repeat(pad)) };
}

describe('item size (DynamoDB Developer Guide, item sizes and formats)', () => {
  it('counts attribute names and UTF-8 string bytes', () => {
    expect(itemSize({ pk: S('ACCT#a'), sk: S('ACCT') })).toBe(2 + 6 + 2 + 4);
    expect(attributeValueSize(S('é'))).toBe(2);
  });

  it('sizes numbers at one byte per two significant digits plus one', () => {
    expect(numberSize('0')).toBe(2);
    expect(numberSize('7')).toBe(2);
    expect(numberSize('12')).toBe(2);
    expect(numberSize('123')).toBe(3);
    expect(numberSize('1000000')).toBe(2);
    expect(numberSize('-1250')).toBe(4);
    expect(numberSize('12.50')).toBe(3);
  });

  it('adds 3 bytes per map or list and 1 per element', () => {
    expect(attributeValueSize({ M: {} })).toBe(3);
    expect(attributeValueSize({ M: { ab: S('xyz') } })).toBe(3 + 1 + 2 + 3);
    expect(attributeValueSize({ L: [S('a'), { N: '1' }] })).toBe(3 + 1 + 1 + 1 + 2);
    expect(attributeValueSize({ BOOL: true })).toBe(1);
    expect(attributeValueSize({ NULL: true })).toBe(1);
  });
});

describe('write units', () => {
  it('charges 1 unit per started KB, at least 1, twice in a transaction', () => {
    expect(unitsFor(0, 1024)).toBe(1);
    expect(unitsFor(1024, 1024)).toBe(1);
    expect(unitsFor(1025, 1024)).toBe(2);
    const small = itemOfSize(1024);
    const large = itemOfSize(1025);
    expect(
      writeUnits({ kind: 'Put', transactional: false, before: undefined, after: small }, TABLE, []).table,
    ).toBe(1);
    expect(
      writeUnits({ kind: 'Put', transactional: false, before: undefined, after: large }, TABLE, []).table,
    ).toBe(2);
    expect(
      writeUnits({ kind: 'Put', transactional: true, before: undefined, after: large }, TABLE, []).table,
    ).toBe(4);
  });

  it('charges an update on the larger of the images before and after', () => {
    const before = itemOfSize(3000);
    const after = itemOfSize(500);
    const u = writeUnits({ kind: 'Update', transactional: false, before, after }, TABLE, []);
    expect(u.table).toBe(3);
    expect(u.replicated).toBe(3);
  });

  it('charges an index write when the item enters the sparse index and when it leaves it', () => {
    const accepted = itemOfSize(400, { gsi1pk: S('PENDING#03'), gsi1sk: S('2025-01-01T00:00:00.000Z#t1') });
    const posted = itemOfSize(450);
    const put = writeUnits({ kind: 'Put', transactional: false, before: undefined, after: accepted }, TABLE, [
      PENDING,
    ]);
    expect(put).toEqual({ table: 1, index: 1, replicated: 1 });
    const finalize = writeUnits(
      { kind: 'Update', transactional: true, before: accepted, after: posted },
      TABLE,
      [PENDING],
    );
    // Transactional table write doubled; the index removal is not.
    expect(finalize).toEqual({ table: 2, index: 1, replicated: 1 });
    const outside = writeUnits(
      { kind: 'Update', transactional: false, before: posted, after: posted },
      TABLE,
      [PENDING],
    );
    expect(outside.index).toBe(0);
  });

  it('charges a delete and a put in the index when an index key changes', () => {
    const a = itemOfSize(300, { gsi1pk: S('PENDING#01'), gsi1sk: S('a') });
    const b = itemOfSize(300, { gsi1pk: S('PENDING#01'), gsi1sk: S('b') });
    expect(
      writeUnits({ kind: 'Update', transactional: false, before: a, after: b }, TABLE, [PENDING]).index,
    ).toBe(2);
  });

  it('charges a ConditionCheck on the item read, with nothing replicated', () => {
    const item = itemOfSize(2000);
    expect(
      writeUnits({ kind: 'ConditionCheck', transactional: true, before: item, after: undefined }, TABLE, []),
    ).toEqual({ table: 4, index: 0, replicated: 0 });
  });
});

describe('read units', () => {
  it('charges 1 per started 4 KB per item, half when eventually consistent', () => {
    expect(readUnitsPerItem([itemOfSize(100), itemOfSize(4097), undefined], true)).toBe(1 + 2 + 1);
    expect(readUnitsPerItem([itemOfSize(100)], false)).toBe(0.5);
  });

  it('sums a query page before rounding', () => {
    expect(readUnitsOfQuery([itemOfSize(2000), itemOfSize(2000)], true)).toBe(1);
    expect(readUnitsOfQuery([itemOfSize(2000), itemOfSize(2100)], true)).toBe(2);
  });
});
