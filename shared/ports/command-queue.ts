import type { LedgerCommand } from '../domain/commands.js';

export type EnqueueOutcome = { readonly ok: true } | { readonly ok: false; readonly errorCode: string };

/**
 * The stream in front of the ledger. `enqueue` sends all commands in one call, resends only the
 * refused ones with bounded backoff, and reports each command's final outcome in input order.
 * An ok outcome means the record is durably in the stream.
 */
export interface CommandQueue {
  enqueue(commands: readonly LedgerCommand[]): Promise<readonly EnqueueOutcome[]>;
}
