import type { AttributeValue } from '@aws-sdk/client-dynamodb';

/**
 * DynamoDB's documented sizing and capacity rules, as pure functions, so that write units can be
 * computed from the items a run actually wrote (DynamoDB Local's ConsumedCapacity is not reliable for
 * transactions: see docs/PERFORMANCE.md).
 *
 * Sources: Amazon DynamoDB Developer Guide, "Item sizes and formats" (CapacityUnitCalculations),
 * "DynamoDB read and write capacity" / on-demand pricing page (1 WRU per 1 KB per standard write,
 * 2 per transactional write; 1 RRU per 4 KB strongly consistent, half for eventually consistent),
 * "Global secondary indexes: provisioned throughput considerations" (index writes), and "Global tables
 * billing" (replicated writes; GSI updates billed as plain write units in every replica).
 */

export type Item = Record<string, AttributeValue>;

export const WRITE_UNIT_BYTES = 1024;
export const READ_UNIT_BYTES = 4096;
/** Per-entry overhead DynamoDB adds to a secondary index entry. */
export const INDEX_ENTRY_OVERHEAD_BYTES = 100;
/** Overhead of a List or Map, and of each of its elements. */
const CONTAINER_BYTES = 3;
const ELEMENT_BYTES = 1;

const utf8 = (s: string): number => Buffer.byteLength(s, 'utf8');

/**
 * Size of a number: 1 byte per two significant digits (leading and trailing zeros trimmed), plus 1
 * (plus 1 more when negative). The guide calls this "approximately"; it is the rule every public
 * calculator uses.
 */
export function numberSize(raw: string): number {
  const unsigned = raw.replace(/^[-+]/, '');
  const mantissa = unsigned.toLowerCase().split('e')[0] ?? '';
  const digits = mantissa.replace('.', '').replace(/^0+/, '').replace(/0+$/, '');
  const significant = Math.max(1, digits.length);
  return Math.ceil(significant / 2) + 1 + (raw.startsWith('-') ? 1 : 0);
}

/** Size in bytes of one attribute value (without its name). */
export function attributeValueSize(value: AttributeValue): number {
  if (value.S !== undefined) return utf8(value.S);
  if (value.N !== undefined) return numberSize(value.N);
  if (value.B !== undefined) return value.B.byteLength;
  if (value.BOOL !== undefined || value.NULL !== undefined) return 1;
  if (value.SS !== undefined) return value.SS.reduce((n, s) => n + utf8(s), 0);
  if (value.NS !== undefined) return value.NS.reduce((n, s) => n + numberSize(s), 0);
  if (value.BS !== undefined) return value.BS.reduce((n, b) => n + b.byteLength, 0);
  if (value.L !== undefined) {
    return value.L.reduce((n, v) => n + ELEMENT_BYTES + attributeValueSize(v), CONTAINER_BYTES);
  }
  if (value.M !== undefined) {
    return Object.entries(value.M).reduce(
      (n, [k, v]) => n + ELEMENT_BYTES + utf8(k) + attributeValueSize(v),
      CONTAINER_BYTES,
    );
  }
  throw new TypeError(`unknown attribute value ${JSON.stringify(value)}`);
}

/** Item size: the UTF-8 bytes of every attribute name plus the size of its value. */
export function itemSize(item: Item | undefined): number {
  if (item === undefined) return 0;
  let bytes = 0;
  for (const [name, value] of Object.entries(item)) bytes += utf8(name) + attributeValueSize(value);
  return bytes;
}

/** Units for `bytes` in blocks of `unitBytes`, at least 1 (an empty or missing item still costs one). */
export function unitsFor(bytes: number, unitBytes: number): number {
  return Math.max(1, Math.ceil(bytes / unitBytes));
}

export interface IndexDefinition {
  readonly name: string;
  readonly partition: string;
  readonly sort?: string;
  /** KEYS_ONLY here: only the table and index keys are projected. */
  readonly projected: readonly string[];
}

export interface TableKeys {
  readonly partition: string;
  readonly sort?: string;
}

/** The action a write request performs on one item. */
export type WriteKind = 'Put' | 'Update' | 'Delete' | 'ConditionCheck';

export interface ItemWrite {
  readonly kind: WriteKind;
  readonly transactional: boolean;
  /** The item before the request (undefined: absent). */
  readonly before: Item | undefined;
  /** The item after the request (undefined: absent, or unchanged for a ConditionCheck). */
  readonly after: Item | undefined;
}

export interface WriteUnits {
  /** Base table write units, transactional factor included (what the originating region bills). */
  readonly table: number;
  /** Index write units (no transactional factor: an index update inside a transaction costs the same). */
  readonly index: number;
  /** Standard (1x) units of the item change, as each replica region bills it (rWRU); 0 for a check. */
  readonly replicated: number;
}

/**
 * Write units of one item write: the larger of the item's size before and after (UpdateItem and an
 * overwriting PutItem are charged on the larger image; a delete on the deleted item; a transactional
 * ConditionCheck on the item it read), rounded up per 1 KB, doubled in a transaction. Index writes: a
 * put of the entry when the item enters the index, a delete when it leaves, both when an index key
 * changes.
 */
export function writeUnits(
  write: ItemWrite,
  table: TableKeys,
  indexes: readonly IndexDefinition[],
): WriteUnits {
  const bytes = Math.max(itemSize(write.before), write.kind === 'ConditionCheck' ? 0 : itemSize(write.after));
  const base = unitsFor(bytes, WRITE_UNIT_BYTES);
  const tableUnits = write.transactional ? 2 * base : base;
  if (write.kind === 'ConditionCheck') return { table: tableUnits, index: 0, replicated: 0 };
  let index = 0;
  for (const definition of indexes) index += indexWriteUnits(write.before, write.after, table, definition);
  return { table: tableUnits, index, replicated: base };
}

function indexWriteUnits(
  before: Item | undefined,
  after: Item | undefined,
  table: TableKeys,
  index: IndexDefinition,
): number {
  const was = indexEntry(before, table, index);
  const is = indexEntry(after, table, index);
  const entryUnits = (entry: Item) =>
    unitsFor(itemSize(entry) + INDEX_ENTRY_OVERHEAD_BYTES, WRITE_UNIT_BYTES);
  if (was === undefined && is === undefined) return 0;
  if (was === undefined && is !== undefined) return entryUnits(is);
  if (was !== undefined && is === undefined) return entryUnits(was);
  if (was === undefined || is === undefined) return 0;
  const keyOf = (e: Item) =>
    JSON.stringify([e[index.partition], index.sort === undefined ? null : e[index.sort]]);
  if (keyOf(was) !== keyOf(is)) return entryUnits(was) + entryUnits(is);
  return JSON.stringify(was) === JSON.stringify(is) ? 0 : entryUnits(is);
}

/** The item's entry in a sparse index: undefined unless every index key attribute is present. */
function indexEntry(item: Item | undefined, table: TableKeys, index: IndexDefinition): Item | undefined {
  if (item === undefined) return undefined;
  const indexKeys = index.sort === undefined ? [index.partition] : [index.partition, index.sort];
  if (indexKeys.some((k) => item[k] === undefined)) return undefined;
  const names = new Set([
    table.partition,
    ...(table.sort === undefined ? [] : [table.sort]),
    ...indexKeys,
    ...index.projected,
  ]);
  const entry: Item = {};
  for (const name of [...names].sort()) {
    const value = item[name];
    if (value !== undefined) entry[name] = value;
  }
  return entry;
}

/**
 * Read units of reading `items` (the ones returned): per item for GetItem and BatchGetItem, 1 per
 * 4 KB rounded up, half for an eventually consistent read; a key that found nothing still costs the
 * minimum.
 */
export function readUnitsPerItem(items: readonly (Item | undefined)[], consistent: boolean): number {
  const factor = consistent ? 1 : 0.5;
  return items.reduce((n, item) => n + factor * unitsFor(itemSize(item), READ_UNIT_BYTES), 0);
}

/** Read units of a Query page: the sizes of all returned items summed, then rounded up per 4 KB. */
export function readUnitsOfQuery(items: readonly Item[], consistent: boolean): number {
  const bytes = items.reduce((n, item) => n + itemSize(item), 0);
  return (consistent ? 1 : 0.5) * unitsFor(bytes, READ_UNIT_BYTES);
}
