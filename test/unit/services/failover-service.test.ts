import { describe, expect, it } from 'vitest';
import type { Account, JournalPage, Transfer } from '../../../shared/domain/ledger.js';
import type { RegionAdmin, RegionStanding, RegionWriters } from '../../../shared/ports/region-admin.js';
import { FailoverService } from '../../../shared/services/failover-service.js';

/** One region's replica in memory; `shared` probes model replication delivered (or not). */
class MemoryReplica implements RegionAdmin {
  readonly accounts = new Map<string, Account>();
  readonly transfers = new Map<string, Transfer>();
  readonly standings = new Map<string, RegionStanding>();
  readonly restamped: string[] = [];
  readonly pages = new Map<string, JournalPage[]>();
  constructor(
    readonly region: string,
    private readonly probes: Set<string>,
    private readonly replicating: () => boolean,
  ) {}
  async listAccountsHomedIn(home: string) {
    return [...this.accounts.values()].filter((a) => a.homeRegion === home);
  }
  async getAccount(id: string) {
    return this.accounts.get(id);
  }
  async replaceAccount(before: Account, after: Account) {
    const now = this.accounts.get(before.id);
    if (now?.version !== before.version || now.homeRegion !== before.homeRegion) return 'conflict' as const;
    this.accounts.set(after.id, after);
    return 'written' as const;
  }
  async listOpenTransfers(accountIds: ReadonlySet<string>) {
    return [...this.transfers.values()].filter((t) => accountIds.has(t.debitAccountId));
  }
  async restampTransfer(id: string, status: string) {
    if (this.transfers.get(id)?.status !== status) return false;
    this.restamped.push(id);
    return true;
  }
  async listAppliedTransfers(accountIds: ReadonlySet<string>) {
    return [...this.transfers.values()].filter(
      (t) => t.appliedEpoch !== undefined && accountIds.has(t.debitAccountId),
    );
  }
  async listPages(accountId: string) {
    return this.pages.get(accountId) ?? [];
  }
  async resetToAccepted(t: Transfer) {
    if (this.transfers.get(t.id)?.revision !== t.revision) return false;
    this.transfers.set(t.id, { ...t, status: 'ACCEPTED', revision: t.revision + 1n });
    return true;
  }
  async getStanding(region: string) {
    return this.standings.get(region);
  }
  async putStanding(standing: RegionStanding) {
    this.standings.set(standing.region, standing);
  }
  async writeProbe(id: string) {
    if (this.replicating()) this.probes.add(id);
  }
  async seesProbe(id: string) {
    return this.probes.has(id);
  }
}

const account = (id: string, homeRegion: string, version = 3n): Account => ({
  id,
  currency: 'USD',
  overdraftLimit: 0n,
  balance: 10n,
  heldAmount: 0n,
  status: 'OPEN',
  version,
  homeRegion,
  epoch: 1n,
  fingerprint: 'f',
  createdAt: '2026-11-24T00:00:00.000Z',
  updatedAt: '2026-11-24T00:00:00.000Z',
});

function setup(replicating = true) {
  const probes = new Set<string>();
  const east = new MemoryReplica('us-east-2', probes, () => replicating);
  const west = new MemoryReplica('ca-central-1', probes, () => replicating);
  for (const a of [account('a', 'us-east-2'), account('b', 'us-east-2', 7n), account('c', 'ca-central-1')]) {
    west.accounts.set(a.id, a);
  }
  west.transfers.set('t1', {
    id: 't1',
    debitAccountId: 'a',
    creditAccountId: 'c',
    amount: 5n,
    currency: 'USD',
    status: 'ACCEPTED',
    fingerprint: 'f',
    acceptedAt: '2026-11-24T00:00:00.000Z',
    revision: 0n,
  });
  const switched: string[] = [];
  const writers: RegionWriters = {
    setWriters: async (region, enabled) => {
      if (region === 'us-east-2' && !enabled && !replicating) throw new Error('region unreachable');
      switched.push(`${region}:${enabled}`);
      return `${region} ${enabled}`;
    },
  };
  const service = new FailoverService({
    admins: new Map([
      ['us-east-2', east],
      ['ca-central-1', west],
    ]),
    writers,
    sleep: async () => {},
  });
  return { east, west, service, switched };
}

describe('FailoverService', () => {
  it('fences the failed region, re-homes its accounts with a new epoch and fork, re-stamps their open transfers, switches its writers off', async () => {
    const { west, service, switched } = setup();
    const report = await service.failover('us-east-2', 'ca-central-1');
    expect(report).toMatchObject({ rehomed: 2, failed: [], restamped: 1 });
    expect(west.standings.get('us-east-2')).toMatchObject({ status: 'FENCED', successor: 'ca-central-1' });
    expect(west.accounts.get('b')).toMatchObject({
      homeRegion: 'ca-central-1',
      epoch: 2n,
      version: 8n,
      forks: [{ epoch: 2n, version: 8n, from: 'us-east-2', to: 'ca-central-1' }],
    });
    expect(west.accounts.get('c')).toMatchObject({ homeRegion: 'ca-central-1', epoch: 1n, version: 3n });
    expect(west.restamped).toEqual(['t1']);
    expect(switched).toEqual(['us-east-2:false']);
    // Idempotent: nothing is left to move.
    expect(await service.failover('us-east-2', 'ca-central-1')).toMatchObject({ rehomed: 0, failed: [] });
  });

  it('still fails over when the failed region cannot be reached to switch its writers, and says so', async () => {
    const { service } = setup(false);
    const report = await service.failover('us-east-2', 'ca-central-1');
    expect(report.rehomed).toBe(2);
    expect(report.writers).toMatch(
      /could not disable its writers .*region unreachable.*when the region answers/,
    );
  });

  it('fails back only the accounts that came from the region, after a replication barrier, then activates it', async () => {
    const { east, west, service, switched } = setup();
    await service.failover('us-east-2', 'ca-central-1');
    const report = await service.failback('us-east-2', 'ca-central-1');
    expect(report).toMatchObject({ rehomed: 2, failed: [] });
    expect(west.accounts.get('a')).toMatchObject({ homeRegion: 'us-east-2', epoch: 3n });
    expect(west.accounts.get('c')?.homeRegion).toBe('ca-central-1');
    expect(east.standings.get('us-east-2')?.status).toBe('ACTIVE');
    expect(switched).toEqual(['us-east-2:false', 'us-east-2:true']);
  });

  it('changes nothing when replication has not caught up', async () => {
    const { east, west, service } = setup(false);
    await service.failover('us-east-2', 'ca-central-1');
    await expect(service.failback('us-east-2', 'ca-central-1', 50)).rejects.toThrow(/has not caught up/);
    expect(west.accounts.get('a')?.homeRegion).toBe('ca-central-1');
    expect(east.standings.get('us-east-2')).toBeUndefined();
  });

  it('puts back to ACCEPTED a transfer whose every line was a void write, and leaves one that partly counted', async () => {
    const { west, service } = setup();
    await service.failover('us-east-2', 'ca-central-1');
    // Region 1 had posted t-void and t-torn at version 4 (epoch 1), past the fork at version 4: void.
    const line = (transferId: string, type: 'DEBIT' | 'CREDIT') => ({
      transferId,
      type,
      amount: 5n,
      balanceAfter: 0n,
      heldAfter: 0n,
    });
    const posted = (id: string): Transfer => ({
      id,
      debitAccountId: 'a',
      creditAccountId: 'b',
      amount: 5n,
      currency: 'USD',
      status: 'POSTED',
      fingerprint: 'f',
      acceptedAt: '2026-11-24T00:00:00.000Z',
      revision: 1n,
      appliedEpoch: 1n,
      appliedVersion: 4n,
    });
    west.transfers.set('t-void', posted('t-void'));
    west.transfers.set('t-torn', posted('t-torn'));
    const page = (
      accountId: string,
      version: bigint,
      epoch: bigint,
      lines: JournalPage['lines'],
    ): JournalPage => ({
      accountId,
      version,
      epoch,
      currency: 'USD',
      postedAt: '2026-11-24T00:00:00.000Z',
      lines,
    });
    west.pages.set('a', [page('a', 4n, 1n, [line('t-void', 'DEBIT'), line('t-torn', 'DEBIT')])]);
    // b was at version 7 when region 2 took over: its page 7 replicated and counts (a torn transaction).
    west.pages.set('b', [
      page('b', 7n, 1n, [line('t-torn', 'CREDIT')]),
      page('b', 9n, 1n, [line('t-void', 'CREDIT')]),
    ]);
    const report = await service.reapply('ca-central-1');
    expect(report).toEqual({ reset: ['t-void'], unresolved: ['t-torn'] });
    expect(west.transfers.get('t-void')).toMatchObject({ status: 'ACCEPTED', revision: 2n });
    expect(west.transfers.get('t-torn')?.status).toBe('POSTED');
  });
});
