import {
  type LedgerCommand,
  partitionKeyOf,
  type TransferBody,
  transferRequestOf,
} from '../domain/commands.js';
import type { EnqueueOutcome } from '../ports/command-queue.js';
import type { TransferRecorder } from '../ports/ledger-store.js';
import type { Regions } from '../ports/regions.js';
import { mapBounded } from './concurrency.js';

/** Concurrent conditional writes while recording a batch in another region. */
const RECORD_CONCURRENCY_MAX = 16;

/**
 * Sends commands to the stream of the region that must apply them: the home region of the
 * command's partition account (per the local replica; the local region for an account it does not
 * know yet; the chosen home for an account being opened). A transfer sent to another region is
 * recorded there first (created once, by id), so the home consumer finds its ACCEPTED record
 * whatever the replication delay. Per-account order holds: one account, one home, one stream.
 */
export class CommandRouter {
  constructor(private readonly regions: Regions) {}

  /** The region each command goes to, in input order. */
  async targetsOf(commands: readonly LedgerCommand[]): Promise<string[]> {
    const homes = await this.regions.homesOf([...new Set(commands.map(partitionKeyOf))]);
    return commands.map((c) =>
      c.type === 'open_account' ? c.account.homeRegion : (homes.get(partitionKeyOf(c)) ?? this.regions.local),
    );
  }

  /** Sends each command to its home region's stream; one outcome per command, in input order. */
  async send(commands: readonly LedgerCommand[]): Promise<EnqueueOutcome[]> {
    if (commands.length === 0) return [];
    const targets = await this.targetsOf(commands);
    return this.sendTo(commands, targets);
  }

  /**
   * Sends each command to the given region, one stream call per region; an unreachable region is
   * each of its commands' outcome. Transfers are recorded there first when it is not local, unless
   * the caller already recorded them (`recorded`: the ingest records before it answers).
   */
  async sendTo(
    commands: readonly LedgerCommand[],
    targets: readonly string[],
    options: { readonly recorded?: boolean } = {},
  ): Promise<EnqueueOutcome[]> {
    const outcomes: EnqueueOutcome[] = commands.map(() => ({ ok: false, errorCode: 'NotSent' }));
    const byRegion = new Map<string, number[]>();
    targets.forEach((region, index) => {
      byRegion.set(region, [...(byRegion.get(region) ?? []), index]);
    });
    await Promise.all(
      [...byRegion].map(async ([region, indexes]) => {
        const endpoint = this.regions.endpoint(region);
        const batch = indexes.map((i) => commands[i] as LedgerCommand);
        try {
          if (region !== this.regions.local && options.recorded !== true)
            await recordAt(endpoint.recorder, batch);
          const results = await endpoint.queue.enqueue(batch);
          indexes.forEach((index, k) => {
            outcomes[index] = results[k] ?? { ok: false, errorCode: 'NotSent' };
          });
        } catch (error) {
          const errorCode = (error as Error).name || 'RegionUnavailable';
          for (const index of indexes) outcomes[index] = { ok: false, errorCode };
        }
      }),
    );
    return outcomes;
  }
}

/** Creates (once, by id) the ACCEPTED record of every transfer a batch carries, in the target region. */
async function recordAt(recorder: TransferRecorder, commands: readonly LedgerCommand[]): Promise<void> {
  const bodies: { body: TransferBody; fingerprint: string; acceptedAt: string }[] = [];
  for (const c of commands) {
    if (c.type === 'transfer')
      bodies.push({ body: c.transfer, fingerprint: c.fingerprint, acceptedAt: c.acceptedAt });
    if (c.type === 'atomic_group') {
      for (const leg of c.legs)
        bodies.push({ body: leg.transfer, fingerprint: leg.fingerprint, acceptedAt: c.acceptedAt });
    }
  }
  await mapBounded(bodies, RECORD_CONCURRENCY_MAX, ({ body, fingerprint, acceptedAt }) =>
    recorder.recordAccepted(transferRequestOf(body), fingerprint, acceptedAt),
  );
}
