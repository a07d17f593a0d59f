import { describe, expect, it } from 'vitest';
import { createTestApi, errorOf, seedAccounts, transferBody } from './harness.js';

interface BatchResult {
  index: number;
  id?: string;
  status: string;
  httpStatus: number;
  transfer?: { id: string; status: string; amount: string };
  error?: { code: string; message: string; details?: { path: string; message: string }[] };
}

async function resultsOf(res: Response): Promise<BatchResult[]> {
  expect(res.status).toBe(202);
  return ((await res.json()) as { results: BatchResult[] }).results;
}

describe('POST /v1/transfers/batch', () => {
  it('answers one result per item in input order; invalid items do not stop the others', async () => {
    const api = createTestApi();
    const results = await resultsOf(
      await api.post('/v1/transfers/batch', {
        transfers: [
          transferBody({ id: 'b-0' }),
          transferBody({ id: 'b-1', amount: '0' }),
          'not an object',
          transferBody({ id: 'b-3', amount: 7 }),
          transferBody({ id: 'b-4', currency: 'eur', memo: 'x' }),
        ],
      }),
    );
    expect(results.map((r) => [r.index, r.id, r.status, r.httpStatus])).toEqual([
      [0, 'b-0', 'ACCEPTED', 202],
      [1, 'b-1', 'ERROR', 422],
      [2, undefined, 'ERROR', 422],
      [3, 'b-3', 'ACCEPTED', 202],
      [4, 'b-4', 'ERROR', 422],
    ]);
    expect(results[1]?.error).toMatchObject({
      code: 'validation_failed',
      details: [{ path: 'transfers.1.amount' }],
    });
    expect(results[2]?.error?.details).toEqual([{ path: 'transfers.2', message: expect.any(String) }]);
    expect(results[4]?.error?.details?.map((d) => d.path)).toEqual([
      'transfers.4.currency',
      'transfers.4.currency',
      'transfers.4.memo',
    ]);
    expect(results[3]?.transfer).toMatchObject({ id: 'b-3', status: 'ACCEPTED', amount: '7' });
    expect([...api.ledger.transfers.keys()]).toEqual(['b-0', 'b-3']);
  });

  it('sends all valid items to the stream in one enqueue call', async () => {
    const api = createTestApi();
    const transfers = Array.from({ length: 500 }, (_, i) => transferBody({ id: `b-${i}` }));
    const results = await resultsOf(await api.post('/v1/transfers/batch', { transfers }));
    expect(results).toHaveLength(500);
    expect(results.every((r) => r.status === 'ACCEPTED')).toBe(true);
    expect(api.ledger.enqueueCalls).toBe(1);
    expect(api.ledger.commandsOf('transfer')).toHaveLength(500);
  });

  it('makes no enqueue call when every item is invalid', async () => {
    const api = createTestApi();
    const results = await resultsOf(await api.post('/v1/transfers/batch', { transfers: [{}, { id: 'x' }] }));
    expect(results.map((r) => r.status)).toEqual(['ERROR', 'ERROR']);
    expect(api.ledger.recordCalls).toBe(0);
    expect(api.ledger.enqueueCalls).toBe(0);
  });

  it('judges refused number literals per item', async () => {
    const api = createTestApi();
    const good = JSON.stringify(transferBody({ id: 'b-0' }));
    const bad = JSON.stringify(transferBody({ id: 'b-1' })).replace('"1250"', '1e3');
    const unsafe = JSON.stringify(transferBody({ id: 'b-2' })).replace('"1250"', '9007199254740993');
    const results = await resultsOf(
      await api.postRaw('/v1/transfers/batch', `{"transfers":[${good},${bad},${unsafe}]}`),
    );
    expect(results.map((r) => r.status)).toEqual(['ACCEPTED', 'ERROR', 'ERROR']);
    expect(results[1]?.error?.details?.map((d) => d.path)).toEqual(['transfers.1.amount']);
    expect(results[2]?.error?.details?.map((d) => d.path)).toEqual(['transfers.2.amount']);
    expect([...api.ledger.transfers.keys()]).toEqual(['b-0']);
  });

  it('handles duplicates within one batch: the same request twice is one transfer, a different one conflicts', async () => {
    const api = createTestApi();
    const results = await resultsOf(
      await api.post('/v1/transfers/batch', {
        transfers: [
          transferBody({ id: 'dup' }),
          transferBody({ id: 'dup' }),
          transferBody({ id: 'dup', amount: '1' }),
        ],
      }),
    );
    expect(results.map((r) => [r.status, r.httpStatus])).toEqual([
      ['ACCEPTED', 202],
      ['ACCEPTED', 202],
      ['ERROR', 409],
    ]);
    expect(results[2]?.error?.code).toBe('idempotency_conflict');
    expect(api.ledger.transfers.size).toBe(1);
    expect(api.ledger.enqueueCalls).toBe(1);
    expect(api.ledger.commandsOf('transfer')).toHaveLength(1);
  });

  it('answers final transfers with their status and 200, without enqueuing them again', async () => {
    const api = createTestApi();
    seedAccounts(api.ledger);
    await api.post('/v1/transfers', transferBody({ id: 'old' }));
    api.ledger.applyPending();
    const results = await resultsOf(
      await api.post('/v1/transfers/batch', {
        transfers: [transferBody({ id: 'old' }), transferBody({ id: 'new' })],
      }),
    );
    expect(results.map((r) => [r.status, r.httpStatus])).toEqual([
      ['POSTED', 200],
      ['ACCEPTED', 202],
    ]);
    expect(api.ledger.commandsOf('transfer').map((c) => c.transfer.id)).toEqual(['old', 'new']);
  });

  it('marks items 503 service_unavailable when the stream refuses, keeping their records', async () => {
    const api = createTestApi();
    api.ledger.refuseEnqueue = 'ProvisionedThroughputExceededException';
    const results = await resultsOf(
      await api.post('/v1/transfers/batch', { transfers: [transferBody({ id: 'a' }), { id: 'bad' }] }),
    );
    expect(results.map((r) => [r.status, r.httpStatus, r.error?.code])).toEqual([
      ['ERROR', 503, 'service_unavailable'],
      ['ERROR', 422, 'validation_failed'],
    ]);
    expect(api.ledger.transfers.get('a')?.status).toBe('ACCEPTED');
  });

  it.each([
    ['an array body', []],
    ['a string body', 'transfers'],
    ['a missing transfers field', {}],
    ['zero items', { transfers: [] }],
    ['501 items', { transfers: Array.from({ length: 501 }, (_, i) => transferBody({ id: `b-${i}` })) }],
    ['transfers not an array', { transfers: { 0: transferBody() } }],
    ['an unknown top-level field', { transfers: [transferBody()], dryRun: true }],
  ])('answers 422 for the whole request with %s', async (_name, body) => {
    const api = createTestApi();
    const res = await api.post('/v1/transfers/batch', body);
    expect(res.status).toBe(422);
    expect((await errorOf(res)).code).toBe('validation_failed');
    expect(api.ledger.recordCalls).toBe(0);
    expect(api.ledger.enqueueCalls).toBe(0);
  });

  it('names the envelope field in the details', async () => {
    const api = createTestApi();
    const res = await api.post('/v1/transfers/batch', { transfers: [], dryRun: true });
    expect((await errorOf(res)).details?.map((d) => d.path)).toEqual(['transfers', 'dryRun']);
  });

  it('accepts a body over the single-request limit (batch limit is 4 MiB)', async () => {
    const api = createTestApi();
    const transfers = Array.from({ length: 400 }, (_, i) =>
      transferBody({
        id: `big-${i}`,
        metadata: { a: 'x'.repeat(256), b: 'y'.repeat(256), c: 'z'.repeat(256) },
      }),
    );
    const text = JSON.stringify({ transfers });
    expect(text.length).toBeGreaterThan(256 * 1024);
    const results = await resultsOf(await api.postRaw('/v1/transfers/batch', text));
    expect(results.every((r) => r.status === 'ACCEPTED')).toBe(true);
  });
});
