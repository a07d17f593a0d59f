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

const ALICE = '/v1/accounts/acct-alice';

function seeded(): TestApi {
  const api = createTestApi();
  seedAccounts(api.ledger);
  return api;
}

async function patchOk(api: TestApi, body: unknown): Promise<Record<string, unknown>> {
  const res = await api.patch(ALICE, body);
  expect(res.status).toBe(200);
  return (await res.json()) as Record<string, unknown>;
}

/** Submits one transfer and applies everything pending; answers its final view. */
async function applied(api: TestApi, overrides: Record<string, unknown>): Promise<Record<string, unknown>> {
  expect((await api.post('/v1/transfers', transferBody(overrides))).status).toBe(202);
  api.ledger.applyPending();
  return transferOf(api, String(overrides.id));
}

describe('PATCH /v1/accounts/{id}: status', () => {
  it('freezes an account: transfers from it and to it end REJECTED account_frozen', async () => {
    const api = seeded();
    expect(await patchOk(api, { status: 'FROZEN' })).toMatchObject({
      id: 'acct-alice',
      status: 'FROZEN',
      version: 1,
    });
    expect(api.ledger.commandsOf('update_account')).toEqual([
      expect.objectContaining({ accountId: 'acct-alice', status: 'FROZEN' }),
    ]);
    expect(await applied(api, { id: 'out' })).toMatchObject({ status: 'REJECTED', reason: 'account_frozen' });
    expect(
      await applied(api, {
        id: 'in',
        debitAccountId: 'acct-bob',
        creditAccountId: 'acct-alice',
        amount: '1',
      }),
    ).toMatchObject({ status: 'REJECTED', reason: 'account_frozen' });
    expect(await accountOf(api, 'acct-alice')).toMatchObject({ balance: '0' });

    expect(await patchOk(api, { status: 'OPEN' })).toMatchObject({ status: 'OPEN' });
    expect(await applied(api, { id: 'after' })).toMatchObject({ status: 'POSTED' });
  });

  it('answers 409 account_not_empty for closing an account with a balance, and leaves it open', async () => {
    const api = seeded();
    await applied(api, { id: 'tx-1' });
    const res = await api.patch(ALICE, { status: 'CLOSED' });
    expect(res.status).toBe(409);
    expect(await errorOf(res)).toMatchObject({
      code: 'account_not_empty',
      message: expect.stringContaining('acct-alice'),
    });
    expect(await accountOf(api, 'acct-alice')).toMatchObject({ status: 'OPEN', balance: '-1250' });
  });

  it('answers 409 account_not_empty for closing an account with an active hold', async () => {
    const api = seeded();
    await applied(api, { id: 'h-1', hold: true });
    const res = await api.patch(ALICE, { status: 'CLOSED' });
    expect(res.status).toBe(409);
    expect((await errorOf(res)).code).toBe('account_not_empty');
  });

  it('closes an account at zero: transfers then end REJECTED account_closed, and it never changes again', async () => {
    const api = seeded();
    expect(await patchOk(api, { status: 'CLOSED' })).toMatchObject({ status: 'CLOSED' });
    expect(await applied(api, { id: 'tx-1' })).toMatchObject({
      status: 'REJECTED',
      reason: 'account_closed',
    });
    for (const body of [{ status: 'OPEN' }, { overdraftLimit: '5' }]) {
      const res = await api.patch(ALICE, body);
      expect(res.status).toBe(409);
      expect((await errorOf(res)).code).toBe('account_closed');
    }
  });
});

describe('PATCH /v1/accounts/{id}: overdraft limit', () => {
  it('changes the limit, which the ledger then applies to debits', async () => {
    const api = seeded();
    expect(await patchOk(api, { overdraftLimit: '500' })).toMatchObject({
      overdraftLimit: '500',
      status: 'OPEN',
    });
    expect(await applied(api, { id: 'over', amount: '501' })).toMatchObject({ reason: 'insufficient_funds' });
    expect(await applied(api, { id: 'at', amount: '500' })).toMatchObject({ status: 'POSTED' });
    expect(await accountOf(api, 'acct-alice')).toMatchObject({ balance: '-500', availableBalance: '-500' });
  });

  it('accepts zero, as a string or a JSON integer, and both fields at once', async () => {
    for (const overdraftLimit of ['0', 0]) {
      const api = seeded();
      expect(await patchOk(api, { overdraftLimit })).toMatchObject({ overdraftLimit: '0' });
    }
    const api = seeded();
    expect(await patchOk(api, { overdraftLimit: 7, status: 'FROZEN' })).toMatchObject({
      overdraftLimit: '7',
      status: 'FROZEN',
    });
  });

  it('answers 409 limit_below_balance when the account already uses more overdraft', async () => {
    const api = seeded();
    await applied(api, { id: 'tx-1' });
    const res = await api.patch(ALICE, { overdraftLimit: '1000' });
    expect(res.status).toBe(409);
    expect((await errorOf(res)).code).toBe('limit_below_balance');
    expect(await accountOf(api, 'acct-alice')).toMatchObject({ overdraftLimit: '100000' });
    expect(await patchOk(api, { overdraftLimit: '1250' })).toMatchObject({ overdraftLimit: '1250' });
  });
});

describe('PATCH /v1/accounts/{id}: requests', () => {
  it.each([
    ['an empty object', {}, ''],
    ['an unknown field', { status: 'FROZEN', balance: '0' }, 'balance'],
    ['an unknown status', { status: 'DELETED' }, 'status'],
    ['a fractional limit', { overdraftLimit: '1.5' }, 'overdraftLimit'],
    ['a negative limit', { overdraftLimit: -1 }, 'overdraftLimit'],
    ['a limit of 20 digits', { overdraftLimit: '1'.repeat(20) }, 'overdraftLimit'],
    ['an array', [], ''],
  ])('answers 422 for %s and enqueues nothing', async (_name, body, path) => {
    const api = seeded();
    const res = await api.patch(ALICE, body);
    expect(res.status).toBe(422);
    expect((await errorOf(res)).details?.map((d) => d.path)).toContain(path);
    expect(api.ledger.enqueueCalls).toBe(0);
  });

  it('answers 422 for an exponent literal in the limit', async () => {
    const api = seeded();
    const res = await api.app.request(ALICE, {
      method: 'PATCH',
      body: '{"overdraftLimit":1e3}',
      headers: { 'content-type': 'application/json' },
    });
    expect(res.status).toBe(422);
    expect((await errorOf(res)).details?.[0]?.path).toBe('overdraftLimit');
  });

  it('accepts application/merge-patch+json and refuses other media types with 415', async () => {
    const api = seeded();
    const send = (contentType: string) =>
      api.app.request(ALICE, {
        method: 'PATCH',
        body: JSON.stringify({ status: 'FROZEN' }),
        headers: { 'content-type': contentType },
      });
    expect((await send('application/merge-patch+json')).status).toBe(200);
    const plain = await send('text/plain');
    expect(plain.status).toBe(415);
    expect((await errorOf(plain)).code).toBe('unsupported_media_type');
  });

  it('answers 404 for an unknown account and for an id that cannot exist', async () => {
    const api = seeded();
    for (const path of ['/v1/accounts/nobody', '/v1/accounts/a%23b']) {
      const res = await api.patch(path, { status: 'FROZEN' });
      expect(res.status).toBe(404);
      expect((await errorOf(res)).code).toBe('not_found');
    }
    expect(api.ledger.enqueueCalls).toBe(0);
  });

  it('uses the Idempotency-Key as the request id: the same key again answers the first outcome', async () => {
    const api = seeded();
    const first = await api.patch(ALICE, { status: 'FROZEN' }, { 'Idempotency-Key': 'chg-1' });
    expect(first.status).toBe(200);
    expect(api.ledger.commandsOf('update_account')[0]?.requestId).toBe('chg-1');
    const again = await api.patch(ALICE, { status: 'FROZEN' }, { 'Idempotency-Key': 'chg-1' });
    expect(again.status).toBe(200);
    expect(api.ledger.commandsOf('update_account')).toHaveLength(1);
    expect(await again.json()).toMatchObject({ status: 'FROZEN', version: 1 });
  });

  it('answers a refused change again with 409 for the same key', async () => {
    const api = seeded();
    await applied(api, { id: 'tx-1' });
    for (let i = 0; i < 2; i++) {
      const res = await api.patch(ALICE, { status: 'CLOSED' }, { 'Idempotency-Key': 'close-1' });
      expect(res.status).toBe(409);
      expect((await errorOf(res)).code).toBe('account_not_empty');
    }
    expect(api.ledger.commandsOf('update_account')).toHaveLength(1);
  });

  it('gives each request without a key its own request id', async () => {
    const api = seeded();
    await patchOk(api, { status: 'FROZEN' });
    await patchOk(api, { status: 'FROZEN' });
    const ids = api.ledger.commandsOf('update_account').map((c) => c.requestId);
    expect(new Set(ids).size).toBe(2);
  });

  it.each([
    ['a space', 'a b'],
    ['129 characters', 'k'.repeat(129)],
  ])('answers 422 for an Idempotency-Key with %s', async (_name, key) => {
    const api = seeded();
    const res = await api.patch(ALICE, { status: 'FROZEN' }, { 'Idempotency-Key': key });
    expect(res.status).toBe(422);
    expect((await errorOf(res)).details?.[0]?.path).toBe('headers.Idempotency-Key');
    expect(api.ledger.enqueueCalls).toBe(0);
  });

  it('answers 202 with the account as it was when the ledger has not applied it within the wait', async () => {
    const api = seeded();
    api.ledger.autoUpdateAccounts = false;
    const res = await api.patch(ALICE, { status: 'FROZEN' }, { 'Idempotency-Key': 'chg-1' });
    expect(res.status).toBe(202);
    expect(await res.json()).toMatchObject({ status: 'OPEN', version: 0 });
    api.ledger.applyPending();
    const later = await api.patch(ALICE, { status: 'FROZEN' }, { 'Idempotency-Key': 'chg-1' });
    expect(later.status).toBe(200);
    expect(await later.json()).toMatchObject({ status: 'FROZEN' });
  });

  it('answers 503 with Retry-After when the stream refuses', async () => {
    const api = seeded();
    api.ledger.refuseEnqueue = 'ProvisionedThroughputExceededException';
    const res = await api.patch(ALICE, { status: 'FROZEN' });
    expect(res.status).toBe(503);
    expect(res.headers.get('Retry-After')).toBe('1');
    expect(await accountOf(api, 'acct-alice')).toMatchObject({ status: 'OPEN' });
  });
});
