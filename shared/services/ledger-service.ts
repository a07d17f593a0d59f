import {
  accountSpecOf,
  commandIdOf,
  type DecodeResult,
  decodeCommand,
  type LedgerCommand,
  transferRequestOf,
} from '../domain/commands.js';
import { decideTransfer } from '../domain/ledger.js';
import type { DeadLetterSink, LedgerWriter } from '../ports/ledger-store.js';

/** What happened to one stream record. Anything else is thrown and retried by the stream. */
export type CommandOutcome =
  | { readonly status: 'posted' | 'opened' | 'duplicate' }
  | { readonly status: 'rejected'; readonly reason: string }
  | { readonly status: 'dead_lettered'; readonly reason: string };

export interface StreamRecord {
  readonly id: string;
  readonly partitionKey: string;
  readonly data: Uint8Array;
}

/**
 * Applies ledger commands from the stream. Business rejections are recorded outcomes, never
 * retried; records that can never apply go to the dead-letter sink with their reason and never
 * block the shard; only transient errors propagate (the stream redelivers, the writes are
 * idempotent).
 */
export class LedgerService {
  constructor(
    private readonly writer: LedgerWriter,
    private readonly deadLetters: DeadLetterSink,
    private readonly region: string,
  ) {}

  decode(record: StreamRecord): DecodeResult {
    return decodeCommand(record.data);
  }

  /** The accounts a record touches, for ordering (undecodable records touch nothing). */
  keysOf(decoded: DecodeResult): readonly string[] {
    if (!decoded.ok) return [];
    const c = decoded.command;
    return c.type === 'transfer' ? [c.transfer.debitAccountId, c.transfer.creditAccountId] : [c.account.id];
  }

  async handle(record: StreamRecord, decoded: DecodeResult): Promise<CommandOutcome> {
    if (!decoded.ok) return this.deadLetter('consumer-decode', record, decoded.reason);
    const outcome = await this.apply(decoded.command);
    if (outcome.status === 'unappliable') {
      return this.deadLetter(
        'consumer-unappliable',
        record,
        `${commandIdOf(decoded.command)}: ${outcome.reason}`,
      );
    }
    return outcome;
  }

  private async apply(
    command: LedgerCommand,
  ): Promise<CommandOutcome | { readonly status: 'unappliable'; readonly reason: string }> {
    if (command.type === 'open_account') {
      if (command.account.homeRegion !== this.region) {
        return { status: 'unappliable', reason: `account is homed in ${command.account.homeRegion}` };
      }
      const spec = accountSpecOf(command);
      const opened = await this.writer.openAccount(
        spec,
        command.account.homeRegion,
        command.fingerprint,
        command.requestedAt,
      );
      return { status: opened ? 'opened' : 'duplicate' };
    }
    const request = transferRequestOf(command);
    return this.writer.applyTransfer(request, command.fingerprint, (debit, credit) =>
      decideTransfer(request, debit, credit, this.region),
    );
  }

  private async deadLetter(source: string, record: StreamRecord, reason: string): Promise<CommandOutcome> {
    await this.deadLetters.put({
      source,
      reason,
      recordId: record.id,
      partitionKey: record.partitionKey,
      data: Buffer.from(record.data).toString('base64'),
    });
    return { status: 'dead_lettered', reason };
  }
}
