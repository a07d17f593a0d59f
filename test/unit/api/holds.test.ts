import { describe, expect, it } from 'vitest';
import {
  accountOf,
  createTestApi,
  errorOf,
  seedAccounts,
  type TestApi,
  transferBody,
  transferOf,
} from './harness.js';

const HOLD = transferBody({ hold: true });
const CAPTURE = '/v1/transfers/tx-1/capture';
const VOID = '/v1/transfers/tx-1/void';

/** Alice (overdraft 100000) holds 1250 for bob, applied: the hold is HELD. */
async function heldHold(overrides: Record<string, unknown> = {}): Promise<TestApi> {
  const api = createTestApi();
  seedAccounts(api.ledger);
  expect((await api.post('/v1/transfers', { ...HOLD, ...overrides })).status).toBe(202);
  api.ledger.applyPending();
  expect((await transferOf(api, 'tx-1')).status).toBe('HELD');
  return api;
}

describe('POST /v1/transfers with "hold": true', () => {
  it('accepts a hold with the default timeout, then the ledger reserves the amount (HELD)', async () => {
    const api = createTestApi();
    seedAccounts(api.ledger);
    const res = await api.post('/v1/transfers', HOLD);
    expect(res.status).toBe(202);
    expect(await res.json()).toMatchObject({ status: 'ACCEPTED', hold: true, holdTimeoutSeconds: 604800 });
    expect(api.ledger.commandsOf('transfer')[0]?.transfer.holdTimeoutSeconds).toBe(604800);

    api.ledger.applyPending();
    expect(await transferOf(api, 'tx-1')).toMatchObject({
      status: 'HELD',
      hold: true,
      heldAt: '2025-03-01T09:00:00.000Z',
      holdExpiresAt: '2025-03-08T09:00:00.000Z',
      history: [],
    });
    expect(await accountOf(api, 'acct-alice')).toMatchObject({
      balance: '0',
      heldAmount: '1250',
      availableBalance: '-1250',
    });
    expect(await accountOf(api, 'acct-bob')).toMatchObject({
      balance: '0',
      heldAmount: '0',
      availableBalance: '0',
    });
  });

  it('takes holdTimeoutSeconds, up to 30 days', async () => {
    const api = await heldHold({ holdTimeoutSeconds: 60 });
    expect(await transferOf(api, 'tx-1')).toMatchObject({
      holdTimeoutSeconds: 60,
      holdExpiresAt: '2025-03-01T09:01:00.000Z',
    });
    const max = await api.post('/v1/transfers', { ...HOLD, id: 'tx-2', holdTimeoutSeconds: 2592000 });
    expect(max.status).toBe(202);
  });

  it('counts the same hold with the default timeout spelled out as the same request', async () => {
    const api = createTestApi();
    await api.post('/v1/transfers', HOLD);
    const again = await api.post('/v1/transfers', { ...HOLD, holdTimeoutSeconds: 604800 });
    expect(again.status).toBe(202);
    expect(api.ledger.transfers.size).toBe(1);
  });

  it.each([
    ['holdTimeoutSeconds without hold', { holdTimeoutSeconds: 60 }, 'holdTimeoutSeconds'],
    ['holdTimeoutSeconds with hold: false', { hold: false, holdTimeoutSeconds: 60 }, 'holdTimeoutSeconds'],
    ['a zero timeout', { hold: true, holdTimeoutSeconds: 0 }, 'holdTimeoutSeconds'],
    ['a timeout over 30 days', { hold: true, holdTimeoutSeconds: 2592001 }, 'holdTimeoutSeconds'],
    ['a timeout as a string', { hold: true, holdTimeoutSeconds: '60' }, 'holdTimeoutSeconds'],
    ['hold as a string', { hold: 'true' }, 'hold'],
  ])('answers 422 for %s and records nothing', async (_name, overrides, path) => {
    const api = createTestApi();
    const res = await api.post('/v1/transfers', transferBody(overrides));
    expect(res.status).toBe(422);
    expect((await errorOf(res)).details?.map((d) => d.path)).toContain(path);
    expect(api.ledger.recordCalls).toBe(0);
  });

  it('refuses a fractional timeout literal', async () => {
    const api = createTestApi();
    const res = await api.postRaw(
      '/v1/transfers',
      JSON.stringify(HOLD).replace('}', ',"holdTimeoutSeconds":1.5}'),
    );
    expect(res.status).toBe(422);
    expect((await errorOf(res)).details?.[0]?.path).toBe('holdTimeoutSeconds');
  });

  it('treats "hold": false as a plain transfer', async () => {
    const api = createTestApi();
    seedAccounts(api.ledger);
    await api.post('/v1/transfers', transferBody({ hold: false }));
    api.ledger.applyPending();
    expect(await transferOf(api, 'tx-1')).toMatchObject({ status: 'POSTED', hold: false });
  });

  it('rejects a hold beyond the available balance, and a hold lowers what later transfers may spend', async () => {
    const api = createTestApi();
    seedAccounts(api.ledger, 1000n);
    await api.post('/v1/transfers', transferBody({ id: 'h-1', hold: true, amount: '800' }));
    await api.post('/v1/transfers', transferBody({ id: 'tx-2', amount: '300' }));
    await api.post('/v1/transfers', transferBody({ id: 'h-2', hold: true, amount: '201' }));
    api.ledger.applyPending();
    expect((await transferOf(api, 'h-1')).status).toBe('HELD');
    expect(await transferOf(api, 'tx-2')).toMatchObject({ status: 'REJECTED', reason: 'insufficient_funds' });
    expect(await transferOf(api, 'h-2')).toMatchObject({ status: 'REJECTED', reason: 'insufficient_funds' });
    expect(await accountOf(api, 'acct-alice')).toMatchObject({ heldAmount: '800', availableBalance: '-800' });
  });
});

describe('POST /v1/transfers/{id}/capture', () => {
  it('captures the whole hold: POSTED, money moved, nothing held', async () => {
    const api = await heldHold();
    const res = await api.postEmpty(CAPTURE);
    expect(res.status).toBe(202);
    expect(await res.json()).toMatchObject({ id: 'tx-1', status: 'HELD' });
    expect(api.ledger.commandsOf('capture')).toEqual([
      expect.objectContaining({ transferId: 'tx-1', debitAccountId: 'acct-alice' }),
    ]);

    api.ledger.applyPending();
    expect(await transferOf(api, 'tx-1')).toMatchObject({
      status: 'POSTED',
      capturedAmount: '1250',
      postedAt: '2025-03-01T09:00:00.000Z',
      history: [
        {
          requestId: 'capture:tx-1:all',
          action: 'capture',
          outcome: 'applied',
          at: '2025-03-01T09:00:00.000Z',
        },
      ],
    });
    expect(await accountOf(api, 'acct-alice')).toMatchObject({
      balance: '-1250',
      heldAmount: '0',
      availableBalance: '-1250',
    });
    expect(await accountOf(api, 'acct-bob')).toMatchObject({ balance: '1250', availableBalance: '1250' });
  });

  it('captures part of a hold and releases the rest', async () => {
    const api = await heldHold();
    expect((await api.post(CAPTURE, { amount: '1000' })).status).toBe(202);
    api.ledger.applyPending();
    expect(await transferOf(api, 'tx-1')).toMatchObject({
      status: 'POSTED',
      amount: '1250',
      capturedAmount: '1000',
    });
    expect(await accountOf(api, 'acct-alice')).toMatchObject({
      balance: '-1000',
      heldAmount: '0',
      availableBalance: '-1000',
    });
    expect(await accountOf(api, 'acct-bob')).toMatchObject({ balance: '1000' });
  });

  it.each([
    ['no body', (api: TestApi) => api.postEmpty(CAPTURE)],
    [
      'no body with a non-JSON content type',
      (api: TestApi) => api.postEmpty(CAPTURE, { 'content-type': 'text/plain' }),
    ],
    ['an empty JSON body', (api: TestApi) => api.postRaw(CAPTURE, '')],
    ['{}', (api: TestApi) => api.post(CAPTURE, {})],
    ['{amount} as a string', (api: TestApi) => api.post(CAPTURE, { amount: '1250' })],
    ['{amount} as a JSON integer', (api: TestApi) => api.post(CAPTURE, { amount: 500 })],
  ])('accepts %s', async (_name, send) => {
    const api = await heldHold();
    expect((await send(api)).status).toBe(202);
    api.ledger.applyPending();
    expect((await transferOf(api, 'tx-1')).status).toBe('POSTED');
  });

  it('answers the same capture again with 200 and the final state, enqueuing nothing', async () => {
    const api = await heldHold();
    await api.post(CAPTURE, { amount: '700' });
    api.ledger.applyPending();
    const calls = api.ledger.enqueueCalls;
    const again = await api.post(CAPTURE, { amount: 700 });
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ status: 'POSTED', capturedAmount: '700' });
    expect(api.ledger.enqueueCalls).toBe(calls);
  });

  it('answers 409 hold_not_active for another capture of a captured hold, and after a void', async () => {
    const api = await heldHold();
    await api.post(CAPTURE, { amount: '700' });
    api.ledger.applyPending();
    const other = await api.post(CAPTURE, { amount: '100' });
    expect(other.status).toBe(409);
    expect((await errorOf(other)).code).toBe('hold_not_active');

    const voided = await heldHold();
    await voided.postEmpty(VOID);
    voided.ledger.applyPending();
    const res = await voided.postEmpty(CAPTURE);
    expect(res.status).toBe(409);
    expect(await errorOf(res)).toMatchObject({
      code: 'hold_not_active',
      message: expect.stringContaining('VOIDED'),
    });
  });

  it('answers 422 for an amount above the held amount, enqueuing nothing', async () => {
    const api = await heldHold();
    const calls = api.ledger.enqueueCalls;
    const res = await api.post(CAPTURE, { amount: '1251' });
    expect(res.status).toBe(422);
    expect(await errorOf(res)).toMatchObject({ code: 'validation_failed', details: [{ path: 'amount' }] });
    expect(api.ledger.enqueueCalls).toBe(calls);
  });

  it.each([
    ['a zero amount', '{"amount":"0"}', 'amount'],
    ['a fractional amount', '{"amount":"1.5"}', 'amount'],
    ['an exponent literal', '{"amount":1e3}', 'amount'],
    ['an unknown field', '{"amount":"1","memo":"x"}', 'memo'],
    ['a JSON null body', 'null', ''],
  ])('answers 422 for %s', async (_name, text, path) => {
    const api = await heldHold();
    const res = await api.postRaw(CAPTURE, text);
    expect(res.status).toBe(422);
    expect((await errorOf(res)).details?.map((d) => d.path)).toContain(path);
  });

  it('answers 415 for a non-empty body that is not JSON, and 400 for malformed JSON', async () => {
    const api = await heldHold();
    const plain = await api.app.request(CAPTURE, {
      method: 'POST',
      body: '{"amount":"1"}',
      headers: { 'content-type': 'text/plain' },
    });
    expect(plain.status).toBe(415);
    expect((await errorOf(plain)).code).toBe('unsupported_media_type');
    const malformed = await api.postRaw(CAPTURE, '{"amount":');
    expect(malformed.status).toBe(400);
    expect((await errorOf(malformed)).code).toBe('malformed_json');
  });

  it('answers 409 not_a_hold for a plain transfer', async () => {
    const api = createTestApi();
    seedAccounts(api.ledger);
    await api.post('/v1/transfers', transferBody());
    const res = await api.postEmpty(CAPTURE);
    expect(res.status).toBe(409);
    expect((await errorOf(res)).code).toBe('not_a_hold');
  });

  it('answers 404 for an unknown transfer and for an id that cannot exist', async () => {
    const api = createTestApi();
    for (const path of [
      '/v1/transfers/nope/capture',
      '/v1/transfers/%C3%A9/capture',
      '/v1/transfers/nope/void',
    ]) {
      const res = await api.postEmpty(path);
      expect(res.status).toBe(404);
      expect((await errorOf(res)).code).toBe('not_found');
    }
  });

  it('queues a capture of a hold the ledger has not applied yet, after it, in order', async () => {
    const api = createTestApi();
    seedAccounts(api.ledger);
    await api.post('/v1/transfers', HOLD);
    const res = await api.post(CAPTURE, { amount: '1000' });
    expect(res.status).toBe(202);
    expect(await res.json()).toMatchObject({ status: 'ACCEPTED' });
    api.ledger.applyPending();
    expect(await transferOf(api, 'tx-1')).toMatchObject({ status: 'POSTED', capturedAmount: '1000' });
  });

  it('answers 503 with Retry-After when the stream refuses', async () => {
    const api = await heldHold();
    api.ledger.refuseEnqueue = 'ProvisionedThroughputExceededException';
    const res = await api.postEmpty(CAPTURE);
    expect(res.status).toBe(503);
    expect(res.headers.get('Retry-After')).toBe('1');
  });

  it('logs the transfer id', async () => {
    const api = await heldHold();
    await api.postEmpty(CAPTURE);
    expect(api.access.at(-1)).toMatchObject({
      route: '/v1/transfers/:id/capture',
      status: 202,
      transferId: 'tx-1',
    });
  });
});

describe('POST /v1/transfers/{id}/void', () => {
  it('releases the hold: VOIDED, nothing moved', async () => {
    const api = await heldHold();
    const res = await api.postEmpty(VOID);
    expect(res.status).toBe(202);
    api.ledger.applyPending();
    expect(await transferOf(api, 'tx-1')).toMatchObject({
      status: 'VOIDED',
      releasedAt: '2025-03-01T09:00:00.000Z',
      history: [{ requestId: 'void:tx-1', action: 'void', outcome: 'applied' }],
    });
    expect(await transferOf(api, 'tx-1')).not.toHaveProperty('capturedAmount');
    for (const id of ['acct-alice', 'acct-bob']) {
      expect(await accountOf(api, id)).toMatchObject({
        balance: '0',
        heldAmount: '0',
        availableBalance: '0',
      });
    }
  });

  it('accepts {} and answers a repeat with 200', async () => {
    const api = await heldHold();
    expect((await api.post(VOID, {})).status).toBe(202);
    api.ledger.applyPending();
    const again = await api.postEmpty(VOID);
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ status: 'VOIDED' });
  });

  it('answers 422 for a body with an amount', async () => {
    const api = await heldHold();
    const res = await api.post(VOID, { amount: '1' });
    expect(res.status).toBe(422);
    expect((await errorOf(res)).details).toEqual([{ path: 'amount', message: 'is not a known field' }]);
  });

  it('answers 409 hold_not_active after a capture, and not_a_hold for a plain transfer', async () => {
    const api = await heldHold();
    await api.postEmpty(CAPTURE);
    api.ledger.applyPending();
    const res = await api.postEmpty(VOID);
    expect(res.status).toBe(409);
    expect((await errorOf(res)).code).toBe('hold_not_active');

    await api.post('/v1/transfers', transferBody({ id: 'plain' }));
    const plain = await api.postEmpty('/v1/transfers/plain/void');
    expect(plain.status).toBe(409);
    expect((await errorOf(plain)).code).toBe('not_a_hold');
  });
});

describe('hold expiry', () => {
  it('ends a hold past its timeout as EXPIRED; a capture after that is 409 hold_not_active', async () => {
    const api = await heldHold({ holdTimeoutSeconds: 60 });
    api.advance(61_000);
    expect(await api.ledger.sweepExpiredHolds()).toBe(1);
    api.ledger.applyPending();
    expect(await transferOf(api, 'tx-1')).toMatchObject({
      status: 'EXPIRED',
      releasedAt: '2025-03-01T09:01:01.000Z',
      history: [{ requestId: 'expire:tx-1', action: 'expire', outcome: 'applied' }],
    });
    expect(await accountOf(api, 'acct-alice')).toMatchObject({ heldAmount: '0', availableBalance: '0' });
    const res = await api.postEmpty(CAPTURE);
    expect(res.status).toBe(409);
    expect((await errorOf(res)).code).toBe('hold_not_active');
  });
});

describe('statement lines of holds', () => {
  interface Line {
    transferId: string;
    type: string;
    direction?: string;
    amount: string;
    balanceAfter: string;
    heldAmountAfter: string;
    availableBalanceAfter: string;
    counterpartyAccountId?: string;
  }

  async function statement(api: TestApi, account: string): Promise<Line[]> {
    const res = await api.get(`/v1/accounts/${account}/transfers`);
    expect(res.status).toBe(200);
    return ((await res.json()) as { data: Line[] }).data;
  }

  it('shows HOLD then CAPTURE on the debit account, CREDIT on the credit account', async () => {
    const api = await heldHold();
    await api.post(CAPTURE, { amount: '1000' });
    api.ledger.applyPending();
    const alice = await statement(api, 'acct-alice');
    expect(alice).toEqual([
      expect.objectContaining({
        type: 'CAPTURE',
        direction: 'DEBIT',
        amount: '1000',
        balanceAfter: '-1000',
        heldAmountAfter: '0',
        availableBalanceAfter: '-1000',
        counterpartyAccountId: 'acct-bob',
      }),
      expect.objectContaining({
        type: 'HOLD',
        amount: '1250',
        balanceAfter: '0',
        heldAmountAfter: '1250',
        availableBalanceAfter: '-1250',
      }),
    ]);
    expect(alice[1]).not.toHaveProperty('direction');
    expect(await statement(api, 'acct-bob')).toEqual([
      expect.objectContaining({
        type: 'CREDIT',
        direction: 'CREDIT',
        amount: '1000',
        availableBalanceAfter: '1000',
      }),
    ]);
  });

  it('shows RELEASE after a void', async () => {
    const api = await heldHold();
    await api.postEmpty(VOID);
    api.ledger.applyPending();
    const alice = await statement(api, 'acct-alice');
    expect(alice.map((l) => [l.type, l.amount, l.heldAmountAfter, l.availableBalanceAfter])).toEqual([
      ['RELEASE', '1250', '0', '0'],
      ['HOLD', '1250', '1250', '-1250'],
    ]);
    expect(alice[0]).not.toHaveProperty('direction');
    expect(await statement(api, 'acct-bob')).toEqual([]);
  });
});
