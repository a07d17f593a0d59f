import { type KinesisClient, PutRecordsCommand, type PutRecordsRequestEntry } from '@aws-sdk/client-kinesis';
import { encodeCommand, type LedgerCommand, partitionKeyOf } from '../domain/commands.js';
import type { CommandQueue, EnqueueOutcome } from '../ports/command-queue.js';

/** PutRecords calls per enqueue: the first plus resends of refused entries only. */
export const PUT_ATTEMPTS_MAX = 4;
/** Kinesis' own limit per PutRecords call. */
export const RECORDS_PER_PUT_MAX = 500;
const BACKOFF_BASE_MS = 25;
const BACKOFF_CAP_MS = 250;

export interface KinesisQueueOptions {
  readonly attemptsMax?: number;
  readonly sleep?: (ms: number) => Promise<void>;
}

/**
 * Kinesis implementation of CommandQueue. The partition key is the account whose order matters,
 * so one account's commands land on one shard, in order.
 */
export class KinesisCommandQueue implements CommandQueue {
  private readonly attemptsMax: number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(
    private readonly client: KinesisClient,
    private readonly streamName: string,
    options: KinesisQueueOptions = {},
  ) {
    this.attemptsMax = options.attemptsMax ?? PUT_ATTEMPTS_MAX;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  async enqueue(commands: readonly LedgerCommand[]): Promise<readonly EnqueueOutcome[]> {
    if (commands.length > RECORDS_PER_PUT_MAX)
      throw new RangeError(`at most ${RECORDS_PER_PUT_MAX} commands`);
    const outcomes: EnqueueOutcome[] = commands.map(() => ({ ok: false, errorCode: 'NotSent' }));
    let pending = commands.map((command, index) => ({ index, entry: toEntry(command) }));
    for (let attempt = 0; attempt < this.attemptsMax && pending.length > 0; attempt++) {
      if (attempt > 0)
        await this.sleep(Math.random() * Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** attempt));
      pending = await this.putOnce(pending, outcomes);
    }
    return outcomes;
  }

  /** Sends the pending entries once; returns those refused (throttled or failed) for a resend. */
  private async putOnce(
    pending: { index: number; entry: PutRecordsRequestEntry }[],
    outcomes: EnqueueOutcome[],
  ): Promise<{ index: number; entry: PutRecordsRequestEntry }[]> {
    let results: { ErrorCode?: string | undefined }[];
    try {
      const out = await this.client.send(
        new PutRecordsCommand({ StreamName: this.streamName, Records: pending.map((p) => p.entry) }),
      );
      results = out.Records ?? [];
    } catch (error) {
      const code = (error as { name?: string }).name ?? 'PutRecordsFailed';
      for (const p of pending) outcomes[p.index] = { ok: false, errorCode: code };
      return pending;
    }
    // Walk backwards so we know, for each refused entry, whether a later entry of its partition key
    // was written in this call. If so, resending it would land it after that later entry: instead it
    // stays refused (the client gets 503 and retries), so a key's records are in the stream in the
    // order they were answered 202.
    const refused: { index: number; entry: PutRecordsRequestEntry }[] = [];
    const writtenLater = new Set<string | undefined>();
    for (let i = pending.length - 1; i >= 0; i--) {
      const p = pending[i];
      if (p === undefined) continue;
      const code = results[i]?.ErrorCode;
      if (results[i] !== undefined && code === undefined) {
        outcomes[p.index] = { ok: true };
        writtenLater.add(p.entry.PartitionKey);
        continue;
      }
      outcomes[p.index] = { ok: false, errorCode: code ?? 'MissingResult' };
      if (writtenLater.has(p.entry.PartitionKey)) continue;
      refused.unshift(p);
    }
    return refused;
  }
}

function toEntry(command: LedgerCommand): PutRecordsRequestEntry {
  return { PartitionKey: partitionKeyOf(command), Data: encodeCommand(command) };
}
