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
