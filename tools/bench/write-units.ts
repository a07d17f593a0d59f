import type { RecordedRead, RecordedWrite } from './capture.js';
import {
  type IndexDefinition,
  itemSize,
  readUnitsOfQuery,
  readUnitsPerItem,
  type TableKeys,
  writeUnits,
} from './item-size.js';

/** Capacity of a set of recorded requests, by DynamoDB's documented rules (see item-size.ts). */
export interface UnitsBreakdown {
  /** Item writes recorded (one per item per request; a transaction of five items counts five). */
  readonly itemWrites: number;
  /** Of which failed (condition false, transaction cancelled): still charged, on the existing item. */
  readonly failedItemWrites: number;
  /** Base table write units, transactional factor included. */
  readonly tableWriteUnits: number;
  /** Secondary index write units. */
  readonly indexWriteUnits: number;
  /** Standard units of the successful item changes: what each replica region bills as rWRU. */
  readonly replicatedWriteUnits: number;
  readonly readUnits: number;
}

export const NO_UNITS: UnitsBreakdown = {
  itemWrites: 0,
  failedItemWrites: 0,
  tableWriteUnits: 0,
  indexWriteUnits: 0,
  replicatedWriteUnits: 0,
  readUnits: 0,
};

/** Write and read units of the recorded requests whose phase `select` accepts. */
export function unitsOf(
  writes: readonly RecordedWrite[],
  reads: readonly RecordedRead[],
  table: TableKeys,
  indexes: readonly IndexDefinition[],
  select: (phase: string) => boolean = () => true,
): UnitsBreakdown {
  let itemWrites = 0;
  let failedItemWrites = 0;
  let tableWriteUnits = 0;
  let indexWriteUnits = 0;
  let replicatedWriteUnits = 0;
  for (const w of writes) {
    if (!select(w.phase)) continue;
    itemWrites++;
    // A failed request changed nothing: it is charged on the item as it was.
    const after = w.succeeded ? w.after : w.before;
    const units = writeUnits(
      { kind: w.kind, transactional: w.transactional, before: w.before, after },
      table,
      indexes,
    );
    tableWriteUnits += units.table;
    if (!w.succeeded) {
      failedItemWrites++;
      continue;
    }
    indexWriteUnits += units.index;
    replicatedWriteUnits += units.replicated;
  }
  let readUnits = 0;
  for (const r of reads) {
    if (!select(r.phase)) continue;
    readUnits +=
      r.command === 'Query'
        ? readUnitsOfQuery(
            r.items.filter((i) => i !== undefined),
            r.consistent,
          )
        : readUnitsPerItem(r.items, r.consistent);
  }
  return { itemWrites, failedItemWrites, tableWriteUnits, indexWriteUnits, replicatedWriteUnits, readUnits };
}

/** Total write units billed in the region that took the write: table (with the 2x of transactions) + index. */
export function totalWriteUnits(u: UnitsBreakdown): number {
  return u.tableWriteUnits + u.indexWriteUnits;
}

/** `u` divided by `n` (per transfer). */
export function perUnit(u: UnitsBreakdown, n: number): UnitsBreakdown {
  if (!(n > 0)) throw new RangeError('divide by a positive count');
  return {
    itemWrites: u.itemWrites / n,
    failedItemWrites: u.failedItemWrites / n,
    tableWriteUnits: u.tableWriteUnits / n,
    indexWriteUnits: u.indexWriteUnits / n,
    replicatedWriteUnits: u.replicatedWriteUnits / n,
    readUnits: u.readUnits / n,
  };
}

/**
 * Bytes of the items the successful writes whose phase `select` accepts left behind (`written`: what
 * is replicated and streamed) and of the items they created (`created`: storage growth).
 */
export function itemBytesOf(
  writes: readonly RecordedWrite[],
  select: (phase: string) => boolean,
): { readonly written: number; readonly created: number } {
  let written = 0;
  let created = 0;
  for (const w of writes) {
    if (!select(w.phase) || !w.succeeded || w.kind === 'ConditionCheck') continue;
    written += itemSize(w.after ?? w.before);
    if (w.before === undefined && w.after !== undefined) created += itemSize(w.after);
  }
  return { written, created };
}
