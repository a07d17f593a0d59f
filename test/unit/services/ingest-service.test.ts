import { describe, expect, it } from 'vitest';
import type { TransferRequest } from '../../../shared/domain/ledger.js';
import { IngestService } from '../../../shared/services/ingest-service.js';
import { InMemoryLedger } from '../../helpers/in-memory-ledger.js';

/** A store whose record write fails for chosen ids, as a throttled table would. */
class ThrottledLedger extends InMemoryLedger {
  constructor(private readonly failing: Set<string>) {
    super();
  }
  override async recordAccepted(request: TransferRequest, fingerprint: string, acceptedAt: string) {
    if (this.failing.has(request.id)) {
      const error = new Error('throttled (injected)');
      error.name = 'ThrottlingException';
      throw error;
    }
    return super.recordAccepted(request, fingerprint, acceptedAt);
  }
}

const t = (id: string): TransferRequest => ({
  id,
  debitAccountId: 'a',
  creditAccountId: 'b',
  amount: 5n,
  currency: 'USD',
});

describe('IngestService.submitTransfers', () => {
  it('gives a failed record write its own outcome and still queues the others in one call', async () => {
    const ledger = new ThrottledLedger(new Set(['t2']));
    const service = new IngestService({
      reader: ledger,
      recorder: ledger,
      queue: ledger,
      region: 'us-east-2',
    });
    const outcomes = await service.submitTransfers([t('t1'), t('t2'), t('t3')]);
    expect(outcomes.map((o) => o.kind)).toEqual(['accepted', 'unrecorded', 'accepted']);
    expect(outcomes[1]).toEqual({ kind: 'unrecorded', id: 't2', errorCode: 'ThrottlingException' });
    expect(ledger.enqueued.map((c) => (c.type === 'transfer' ? c.transfer.id : c.type))).toEqual([
      't1',
      't3',
    ]);
    expect(await ledger.getTransfer('t2')).toBeUndefined();
  });

  it('marks recorded transfers the stream refused as unavailable, keeping them ACCEPTED', async () => {
    const ledger = new InMemoryLedger();
    ledger.refuseEnqueue = 'ProvisionedThroughputExceededException';
    const service = new IngestService({
      reader: ledger,
      recorder: ledger,
      queue: ledger,
      region: 'us-east-2',
    });
    const [outcome] = await service.submitTransfers([t('t9')]);
    expect(outcome).toMatchObject({ kind: 'unavailable', transfer: { id: 't9', status: 'ACCEPTED' } });
    expect((await ledger.getTransfer('t9'))?.status).toBe('ACCEPTED');
  });
});

describe('IngestService across regions', () => {
  const EAST = 'us-east-2';
  const WEST = 'ca-central-1';
  /** Two regions, each an in-memory ledger; `homes` is what this region's replica says. */
  function twoRegions(homes: Record<string, string>, unreachable = false) {
    const east = new InMemoryLedger();
    const west = new InMemoryLedger();
    if (unreachable) {
      west.recordAccepted = async () => {
        throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
      };
    }
    const endpoints = { [EAST]: east, [WEST]: west } as const;
    const service = new IngestService({
      reader: east,
      recorder: east,
      queue: east,
      region: EAST,
      regions: {
        local: EAST,
        names: [EAST, WEST],
        endpoint: (region) => {
          const ledger = endpoints[region as keyof typeof endpoints];
          return { region, reader: ledger, recorder: ledger, queue: ledger };
        },
        homesOf: async (ids) =>
          new Map(ids.flatMap((id) => (homes[id] === undefined ? [] : [[id, homes[id]]]))),
      },
    });
    return { east, west, service };
  }
  const ids = (l: InMemoryLedger) => l.enqueued.map((c) => (c.type === 'transfer' ? c.transfer.id : c.type));

  it('records and queues each transfer in the home region of its debit account', async () => {
    const { east, west, service } = twoRegions({ a: WEST, x: EAST });
    const outcomes = await service.submitTransfers([
      t('t1'),
      { ...t('t2'), debitAccountId: 'x' },
      { ...t('t3'), debitAccountId: 'unknown-here' },
    ]);
    expect(outcomes.map((o) => o.kind)).toEqual(['accepted', 'accepted', 'accepted']);
    expect(ids(west)).toEqual(['t1']);
    expect(ids(east)).toEqual(['t2', 't3']);
    expect((await west.getTransfer('t1'))?.status).toBe('ACCEPTED');
    expect(await east.getTransfer('t1')).toBeUndefined();
  });

  it('answers unrecorded (503) when the home region is unreachable, and queues nothing there', async () => {
    const { west, service } = twoRegions({ a: WEST }, true);
    const [outcome] = await service.submitTransfers([t('t1')]);
    expect(outcome).toMatchObject({ kind: 'unrecorded', id: 't1' });
    expect(west.enqueued).toEqual([]);
  });

  it('opens an account in the region it names, and refuses a region outside the deployment', async () => {
    const { east, west, service } = twoRegions({});
    expect(
      await service.openAccount({ id: 'n', currency: 'USD', overdraftLimit: 0n, homeRegion: 'eu-west-1' }),
    ).toEqual({
      kind: 'invalid',
      message: `homeRegion must be one of ${EAST}, ${WEST}`,
    });
    expect(east.enqueued).toEqual([]);
    await service.openAccount({ id: 'n', currency: 'USD', overdraftLimit: 0n, homeRegion: WEST });
    expect(west.enqueued.map((c) => (c.type === 'open_account' ? c.account.homeRegion : c.type))).toEqual([
      WEST,
    ]);
    expect(east.enqueued).toEqual([]);
  });
});
