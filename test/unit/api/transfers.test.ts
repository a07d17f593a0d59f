import { describe, expect, it } from 'vitest';
import { TransferStatus } from '../../../shared/domain/ledger.js';
import { createTestApi, errorOf, seedAccounts, type TestApi, transferBody } from './harness.js';

function nothingRecorded(api: TestApi): void {
  expect(api.ledger.transfers.size).toBe(0);
  expect(api.ledger.recordCalls).toBe(0);
  expect(api.ledger.enqueueCalls).toBe(0);
}

describe('POST /v1/transfers', () => {
  it('records, enqueues once and answers 202 ACCEPTED with the transfer view', async () => {
    const api = createTestApi();
    seedAccounts(api.ledger);
    const res = await api.post(
      '/v1/transfers',
      transferBody({ reference: 'invoice 7', metadata: { orderId: 'o-1' } }),
    );
    expect(res.status).toBe(202);
    expect(res.headers.get('Location')).toBe('/v1/transfers/tx-1');
    expect(await res.json()).toEqual({
      id: 'tx-1',
      status: 'ACCEPTED',
      debitAccountId: 'acct-alice',
      creditAccountId: 'acct-bob',
      amount: '1250',
      currency: 'EUR',
      reference: 'invoice 7',
      metadata: { orderId: 'o-1' },
      hold: false,
      acceptedAt: '2025-03-01T09:00:00.000Z',
      history: [],
    });
    expect(api.ledger.transfers.get('tx-1')?.amount).toBe(1250n);
    expect(api.ledger.enqueueCalls).toBe(1);
    const [command] = api.ledger.commandsOf('transfer');
    expect(command?.transfer).toMatchObject({ id: 'tx-1', amount: '1250', reference: 'invoice 7' });
  });

  it('accepts the amount as a JSON integer and stores the same value as the string form', async () => {
    const api = createTestApi();
    const res = await api.post('/v1/transfers', transferBody({ amount: 1250 }));
    expect(res.status).toBe(202);
    expect(((await res.json()) as { amount: string }).amount).toBe('1250');
    const again = await api.post('/v1/transfers', transferBody({ amount: '1250' }));
    expect(again.status).toBe(202);
    expect(api.ledger.transfers.size).toBe(1);
  });

  it('accepts 9007199254740991 as a JSON number, exactly', async () => {
    const api = createTestApi();
    const res = await api.postRaw(
      '/v1/transfers',
      JSON.stringify(transferBody()).replace('"1250"', '9007199254740991'),
    );
    expect(res.status).toBe(202);
    expect(((await res.json()) as { amount: string }).amount).toBe('9007199254740991');
    expect(api.ledger.transfers.get('tx-1')?.amount).toBe(9_007_199_254_740_991n);
  });

  it('accepts 19 digits as a string, beyond what a JSON number can carry', async () => {
    const api = createTestApi();
    const res = await api.post('/v1/transfers', transferBody({ amount: '9999999999999999999' }));
    expect(res.status).toBe(202);
    expect(api.ledger.transfers.get('tx-1')?.amount).toBe(9_999_999_999_999_999_999n);
  });

  it('accepts debit == credit: the ledger rejects it later as same_account', async () => {
    const api = createTestApi();
    seedAccounts(api.ledger);
    const res = await api.post('/v1/transfers', transferBody({ creditAccountId: 'acct-alice' }));
    expect(res.status).toBe(202);
    api.ledger.applyPending();
    const view = await (await api.get('/v1/transfers/tx-1')).json();
    expect(view).toMatchObject({
      status: 'REJECTED',
      reason: 'same_account',
      rejectedAt: expect.any(String),
    });
  });

  it('accepts a matching Idempotency-Key header', async () => {
    const api = createTestApi();
    const res = await api.post('/v1/transfers', transferBody(), { 'Idempotency-Key': 'tx-1' });
    expect(res.status).toBe(202);
  });

  it('answers 422 when the Idempotency-Key header differs from the body id, recording nothing', async () => {
    const api = createTestApi();
    const res = await api.post('/v1/transfers', transferBody(), { 'Idempotency-Key': 'tx-2' });
    expect(res.status).toBe(422);
    const error = await errorOf(res);
    expect(error.code).toBe('validation_failed');
    expect(error.details).toEqual([{ path: 'headers.Idempotency-Key', message: 'must equal the body id' }]);
    nothingRecorded(api);
  });

  it('answers 422 for an Idempotency-Key that is not an identifier', async () => {
    const api = createTestApi();
    const res = await api.post('/v1/transfers', transferBody(), { 'Idempotency-Key': 'a b' });
    expect(res.status).toBe(422);
    expect((await errorOf(res)).details?.[0]?.path).toBe('headers.Idempotency-Key');
    nothingRecorded(api);
  });

  describe('idempotency', () => {
    it('repeats answer 202 with the same view while ACCEPTED, and re-enqueue it', async () => {
      const api = createTestApi();
      const first = await (await api.post('/v1/transfers', transferBody())).json();
      const res = await api.post('/v1/transfers', transferBody({ metadata: undefined }));
      expect(res.status).toBe(202);
      expect(await res.json()).toEqual(first);
      expect(api.ledger.transfers.size).toBe(1);
      expect(api.ledger.enqueueCalls).toBe(2);
    });

    it('a repeat after posting answers 200 with the final view and enqueues nothing', async () => {
      const api = createTestApi();
      seedAccounts(api.ledger);
      await api.post('/v1/transfers', transferBody());
      api.ledger.applyPending();
      const res = await api.post('/v1/transfers', transferBody());
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ id: 'tx-1', status: 'POSTED', postedAt: expect.any(String) });
      expect(api.ledger.enqueueCalls).toBe(1);
    });

    it('a repeat after a rejection answers 200 REJECTED with its reason', async () => {
      const api = createTestApi();
      seedAccounts(api.ledger, 0n);
      await api.post('/v1/transfers', transferBody());
      api.ledger.applyPending();
      const res = await api.post('/v1/transfers', transferBody());
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ status: 'REJECTED', reason: 'insufficient_funds' });
    });

    it('the same id with a different body is a 409 idempotency_conflict and changes nothing', async () => {
      const api = createTestApi();
      await api.post('/v1/transfers', transferBody());
      const res = await api.post('/v1/transfers', transferBody({ amount: '1251' }));
      expect(res.status).toBe(409);
      expect((await errorOf(res)).code).toBe('idempotency_conflict');
      expect(api.ledger.transfers.get('tx-1')?.amount).toBe(1250n);
      expect(api.ledger.enqueueCalls).toBe(1);
    });
  });

  describe('when the stream refuses', () => {
    it('answers 503 with Retry-After, keeps the ACCEPTED record, and a retry succeeds', async () => {
      const api = createTestApi();
      api.ledger.refuseEnqueue = 'ProvisionedThroughputExceededException';
      const res = await api.post('/v1/transfers', transferBody());
      expect(res.status).toBe(503);
      expect(res.headers.get('Retry-After')).toBe('1');
      expect((await errorOf(res)).code).toBe('service_unavailable');
      expect(api.ledger.transfers.get('tx-1')?.status).toBe(TransferStatus.ACCEPTED);
      expect(api.ledger.enqueued).toHaveLength(0);

      api.ledger.refuseEnqueue = undefined;
      const retry = await api.post('/v1/transfers', transferBody());
      expect(retry.status).toBe(202);
      expect(api.ledger.commandsOf('transfer')).toHaveLength(1);
    });
  });
});

describe('POST /v1/transfers money and field rules (422, nothing recorded)', () => {
  const raw = (amountLiteral: string) => JSON.stringify(transferBody()).replace('"1250"', amountLiteral);

  it.each([
    ['a fraction string', '"12.50"', 'amount'],
    ['"1.5"', '"1.5"', 'amount'],
    ['1.5 as a JSON number', '1.5', 'amount'],
    ['1.0 as a JSON number', '1.0', 'amount'],
    ['1e3 as a JSON number', '1e3', 'amount'],
    ['"1e3" as a string', '"1e3"', 'amount'],
    ['-1', '-1', 'amount'],
    ['"-1"', '"-1"', 'amount'],
    ['a zero amount', '0', 'amount'],
    ['a zero amount as a string', '"0"', 'amount'],
    ['"000"', '"000"', 'amount'],
    ['20 digits', '"12345678901234567890"', 'amount'],
    ['2^53 as a JSON number', '9007199254740992', 'amount'],
    ['a leading space', '" 100"', 'amount'],
    ['a trailing space', '"100 "', 'amount'],
    ['an empty string', '""', 'amount'],
    ['a boolean', 'true', 'amount'],
    ['null', 'null', 'amount'],
    ['an object', '{"value": 1}', 'amount'],
  ])('amount: %s', async (_name, literal, path) => {
    const api = createTestApi();
    const res = await api.postRaw('/v1/transfers', raw(literal));
    expect(res.status).toBe(422);
    const error = await errorOf(res);
    expect(error.code).toBe('validation_failed');
    expect(error.details?.map((d) => d.path)).toContain(path);
    nothingRecorded(api);
  });

  it.each([
    ['lowercase currency', { currency: 'eur' }, 'currency'],
    ['unknown currency', { currency: 'ABC' }, 'currency'],
    ['an id with #', { id: 'tx#1' }, 'id'],
    ['an id of 65 characters', { id: 'x'.repeat(65) }, 'id'],
    ['an empty id', { id: '' }, 'id'],
    ['a unicode id', { id: 'tx-é' }, 'id'],
    ['a unicode account id', { debitAccountId: 'αλίκη' }, 'debitAccountId'],
    ['17 metadata keys', { metadata: keys(17) }, 'metadata'],
    ['a 257-character metadata value', { metadata: { note: 'x'.repeat(257) } }, 'metadata.note'],
    ['a metadata key with a space', { metadata: { 'a b': 'x' } }, 'metadata.a b'],
    ['a non-string metadata value', { metadata: { n: 1 } }, 'metadata.n'],
    ['a constructor metadata key', { metadata: { constructor: 'x' } }, 'metadata.constructor'],
    ['a 129-character reference', { reference: 'r'.repeat(129) }, 'reference'],
    ['an unknown field', { memo: 'hi' }, 'memo'],
    ['a missing amount', { amount: undefined }, 'amount'],
    ['a missing debit account', { debitAccountId: undefined }, 'debitAccountId'],
  ])('%s', async (_name, overrides, path) => {
    const api = createTestApi();
    const res = await api.post('/v1/transfers', transferBody(overrides));
    expect(res.status).toBe(422);
    const error = await errorOf(res);
    expect(error.code).toBe('validation_failed');
    expect(error.details?.map((d) => d.path)).toContain(path);
    nothingRecorded(api);
  });

  it('says "is required" for a missing field', async () => {
    const api = createTestApi();
    const res = await api.post('/v1/transfers', transferBody({ amount: undefined, currency: undefined }));
    expect((await errorOf(res)).details).toEqual([
      { path: 'amount', message: 'is required' },
      { path: 'currency', message: 'is required' },
    ]);
  });

  it('refuses a __proto__ metadata key (which zod would drop silently)', async () => {
    const api = createTestApi();
    const text = JSON.stringify(transferBody({ metadata: { ok: 'x' } })).replace('"ok"', '"__proto__"');
    const res = await api.postRaw('/v1/transfers', text);
    expect(res.status).toBe(422);
    expect((await errorOf(res)).details).toEqual([
      { path: 'metadata.__proto__', message: 'is a reserved name' },
    ]);
    nothingRecorded(api);
  });

  it('refuses a top-level __proto__ field', async () => {
    const api = createTestApi();
    const res = await api.postRaw(
      '/v1/transfers',
      JSON.stringify(transferBody()).replace('{', '{"__proto__":{},'),
    );
    expect(res.status).toBe(422);
    nothingRecorded(api);
  });

  it.each([
    ['an id of 64 characters', { id: 'x'.repeat(64) }],
    ['an id with every allowed symbol', { id: 'A-z_0.9:x' }],
    ['16 metadata keys', { metadata: keys(16) }],
    ['a 256-character metadata value', { metadata: { note: 'x'.repeat(256) } }],
    ['a 128-character reference', { reference: 'r'.repeat(128) }],
    ['leading zeros', { amount: '0001' }],
  ])('accepts the boundary: %s', async (_name, overrides) => {
    const api = createTestApi();
    const res = await api.post('/v1/transfers', transferBody(overrides));
    expect(res.status).toBe(202);
  });

  it('lists every failing field of one request', async () => {
    const api = createTestApi();
    const res = await api.post('/v1/transfers', { id: 'x#', amount: '1.5', currency: 'usd', memo: 1 });
    const paths = new Set((await errorOf(res)).details?.map((d) => d.path));
    expect([...paths]).toEqual(['id', 'debitAccountId', 'creditAccountId', 'amount', 'currency', 'memo']);
  });
});

describe('GET /v1/transfers/{id}', () => {
  it('answers the current view: ACCEPTED, then POSTED with postedAt', async () => {
    const api = createTestApi();
    seedAccounts(api.ledger);
    await api.post('/v1/transfers', transferBody());
    const accepted = await api.get('/v1/transfers/tx-1');
    expect(accepted.status).toBe(200);
    expect(await accepted.json()).toMatchObject({ id: 'tx-1', status: 'ACCEPTED', amount: '1250' });
    api.ledger.applyPending();
    const posted = (await (await api.get('/v1/transfers/tx-1')).json()) as Record<string, unknown>;
    expect(posted).toMatchObject({ status: 'POSTED', postedAt: '2025-03-01T09:00:00.000Z' });
    expect(posted).not.toHaveProperty('reason');
    expect(posted).not.toHaveProperty('debitBalanceAfter');
  });

  it('answers REJECTED with the reason', async () => {
    const api = createTestApi();
    await api.post('/v1/transfers', transferBody());
    api.ledger.applyPending();
    expect(await (await api.get('/v1/transfers/tx-1')).json()).toMatchObject({
      status: 'REJECTED',
      reason: 'account_not_found',
    });
  });

  it('answers 404 for a transfer never accepted, and for an id that cannot exist', async () => {
    const api = createTestApi();
    for (const path of [
      '/v1/transfers/tx-unknown',
      '/v1/transfers/%C3%A9',
      `/v1/transfers/${'x'.repeat(65)}`,
    ]) {
      const res = await api.get(path);
      expect(res.status).toBe(404);
      expect((await errorOf(res)).code).toBe('not_found');
    }
  });
});

function keys(n: number): Record<string, string> {
  return Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, 'v']));
}
