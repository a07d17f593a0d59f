import { describe, expect, it } from 'vitest';
import { type RecordedWrite, writeTargets } from '../../../tools/bench/capture.js';
import type { IndexDefinition, Item } from '../../../tools/bench/item-size.js';
import { perUnit, totalWriteUnits, unitsOf } from '../../../tools/bench/write-units.js';

const TABLE = { partition: 'pk', sort: 'sk' };
const INDEXES: IndexDefinition[] = [{ name: 'pending', partition: 'gsi1pk', sort: 'gsi1sk', projected: [] }];
const S = (s: string) => ({ S: s });
const N = (n: string) => ({ N: n });

const accepted: Item = {
  pk: S('XFER#t1'),
  sk: S('XFER'),
  status: S('ACCEPTED'),
  amount: N('100'),
  gsi1pk: S('PENDING#04'),
  gsi1sk: S('2025-01-01T00:00:00.000Z#t1'),
};
const posted: Item = { pk: S('XFER#t1'), sk: S('XFER'), status: S('POSTED'), amount: N('100') };
const account = (id: string, version: string): Item => ({
  pk: S(`ACCT#${id}`),
  sk: S('ACCT'),
  version: N(version),
});
const entry = (id: string): Item => ({
  pk: S(`ACCT#${id}`),
  sk: S('E#00000000000000000001'),
  amount: N('100'),
});

function write(
  partial: Partial<RecordedWrite> & Pick<RecordedWrite, 'kind' | 'before' | 'after'>,
): RecordedWrite {
  return {
    phase: 'consume',
    command: 'TransactWriteItems',
    transactional: true,
    table: 'ledger',
    key: 'k',
    succeeded: true,
    ...partial,
  };
}

/** One transfer as the product writes it: PutItem ACCEPTED, then the five-item posting transaction. */
const oneTransfer: RecordedWrite[] = [
  write({
    phase: 'ingest',
    command: 'PutItem',
    transactional: false,
    kind: 'Put',
    before: undefined,
    after: accepted,
  }),
  write({ kind: 'Update', before: accepted, after: posted }),
  write({ kind: 'Update', before: account('a', '0'), after: account('a', '1') }),
  write({ kind: 'Update', before: account('b', '0'), after: account('b', '1') }),
  write({ kind: 'Put', before: undefined, after: entry('a') }),
  write({ kind: 'Put', before: undefined, after: entry('b') }),
];

describe('unitsOf', () => {
  it('prices a posted transfer at 13 write units: 1 + 1 index at ingest, 5 x 2 + 1 index at posting', () => {
    const ingest = unitsOf(oneTransfer, [], TABLE, INDEXES, (p) => p === 'ingest');
    const consume = unitsOf(oneTransfer, [], TABLE, INDEXES, (p) => p === 'consume');
    expect(ingest).toMatchObject({
      itemWrites: 1,
      tableWriteUnits: 1,
      indexWriteUnits: 1,
      replicatedWriteUnits: 1,
    });
    expect(consume).toMatchObject({
      itemWrites: 5,
      tableWriteUnits: 10,
      indexWriteUnits: 1,
      replicatedWriteUnits: 5,
    });
    expect(totalWriteUnits(ingest) + totalWriteUnits(consume)).toBe(13);
  });

  it('still charges a failed write, on the item as it was, and replicates nothing of it', () => {
    const failed = write({
      phase: 'consume',
      command: 'PutItem',
      transactional: false,
      kind: 'Put',
      before: accepted,
      after: undefined,
      succeeded: false,
    });
    const u = unitsOf([failed], [], TABLE, INDEXES);
    expect(u).toMatchObject({
      failedItemWrites: 1,
      tableWriteUnits: 1,
      indexWriteUnits: 0,
      replicatedWriteUnits: 0,
    });
  });

  it('adds read units of recorded reads and divides per transfer', () => {
    const u = unitsOf(
      oneTransfer,
      [
        {
          phase: 'consume',
          command: 'BatchGetItem',
          consistent: true,
          items: [account('a', '0'), account('b', '0')],
        },
      ],
      TABLE,
      INDEXES,
    );
    expect(u.readUnits).toBe(2);
    expect(perUnit({ ...u }, 2).readUnits).toBe(1);
    expect(() => perUnit(u, 0)).toThrow(RangeError);
  });
});

describe('writeTargets', () => {
  const keys = { partition: 'pk', sort: 'sk' };

  it('names the item of a PutItem from its key attributes', () => {
    const [t] = writeTargets('PutItem', { TableName: 'ledger', Item: accepted }, keys);
    expect(t).toMatchObject({
      kind: 'Put',
      transactional: false,
      table: 'ledger',
      key: { pk: S('XFER#t1'), sk: S('XFER') },
    });
  });

  it('lists every action of a transaction in order, each transactional', () => {
    const targets = writeTargets(
      'TransactWriteItems',
      {
        TransactItems: [
          { Update: { TableName: 'ledger', Key: { pk: S('XFER#t1'), sk: S('XFER') } } },
          { Put: { TableName: 'ledger', Item: entry('a') } },
          { ConditionCheck: { TableName: 'ledger', Key: { pk: S('ACCT#c'), sk: S('ACCT') } } },
          { Delete: { TableName: 'ledger', Key: { pk: S('X'), sk: S('Y') } } },
        ],
      },
      keys,
    );
    expect(targets.map((t) => [t.kind, t.transactional, t.key.pk?.S])).toEqual([
      ['Update', true, 'XFER#t1'],
      ['Put', true, 'ACCT#a'],
      ['ConditionCheck', true, 'ACCT#c'],
      ['Delete', true, 'X'],
    ]);
  });

  it('ignores reads', () => {
    expect(writeTargets('GetItem', { TableName: 'ledger', Key: {} }, keys)).toEqual([]);
  });
});
