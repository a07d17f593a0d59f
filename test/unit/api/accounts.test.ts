import { describe, expect, it } from 'vitest';
import { createTestApi, errorOf, REGION, seedAccounts, transferBody } from './harness.js';

const openBody = { id: 'acct-carol', currency: 'USD', overdraftLimit: '5000', metadata: { tier: 'gold' } };

describe('POST /v1/accounts', () => {
  it('opens the account through the queue and answers 201 with it', async () => {
    const api = createTestApi();
    const res = await api.post('/v1/accounts', openBody);
    expect(res.status).toBe(201);
    expect(res.headers.get('Location')).toBe('/v1/accounts/acct-carol');
    expect(await res.json()).toEqual({
      id: 'acct-carol',
      currency: 'USD',
      balance: '0',
      heldAmount: '0',
      availableBalance: '0',
      overdraftLimit: '5000',
      status: 'OPEN',
      homeRegion: REGION,
      version: 0,
      createdAt: '2025-03-01T09:00:00.000Z',
      updatedAt: '2025-03-01T09:00:00.000Z',
      metadata: { tier: 'gold' },
    });
    expect(api.ledger.commandsOf('open_account')).toHaveLength(1);
    expect(api.ledger.accounts.get('acct-carol')?.overdraftLimit).toBe(5000n);
  });

  it('defaults the overdraft limit to "0" and accepts "0" and 0', async () => {
    const api = createTestApi();
    for (const [id, overdraftLimit] of [
      ['a-default', undefined],
      ['a-zero-string', '0'],
      ['a-zero-number', 0],
    ] as const) {
      const res = await api.post('/v1/accounts', { id, currency: 'EUR', overdraftLimit });
      expect(res.status).toBe(201);
      expect(((await res.json()) as { overdraftLimit: string }).overdraftLimit).toBe('0');
    }
  });

  it('answers 200 with the account for the same request again (limit as number or string)', async () => {
    const api = createTestApi();
    await api.post('/v1/accounts', openBody);
    const res = await api.post('/v1/accounts', { ...openBody, overdraftLimit: 5000 });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ id: 'acct-carol', overdraftLimit: '5000' });
    expect(api.ledger.commandsOf('open_account')).toHaveLength(1);
  });

  it('answers 409 idempotency_conflict for the same id with a different request', async () => {
    const api = createTestApi();
    await api.post('/v1/accounts', openBody);
    const res = await api.post('/v1/accounts', { ...openBody, currency: 'EUR' });
    expect(res.status).toBe(409);
    expect((await errorOf(res)).code).toBe('idempotency_conflict');
    expect(api.ledger.accounts.get('acct-carol')?.currency).toBe('USD');
  });

  it('answers 503 with Retry-After when the stream refuses the command', async () => {
    const api = createTestApi();
    api.ledger.refuseEnqueue = 'ProvisionedThroughputExceededException';
    const res = await api.post('/v1/accounts', openBody);
    expect(res.status).toBe(503);
    expect(res.headers.get('Retry-After')).toBe('1');
    expect((await errorOf(res)).code).toBe('service_unavailable');
    expect(api.ledger.accounts.size).toBe(0);
  });

  it('answers 503 when the consumer has not opened the account within the wait', async () => {
    const api = createTestApi();
    api.ledger.autoOpenAccounts = false;
    const res = await api.post('/v1/accounts', openBody);
    expect(res.status).toBe(503);
    expect(res.headers.get('Retry-After')).toBe('1');
    expect(api.ledger.commandsOf('open_account')).toHaveLength(1);
  });

  it.each([
    ['a fractional limit', { overdraftLimit: '1.5' }, 'overdraftLimit'],
    ['a negative limit', { overdraftLimit: -1 }, 'overdraftLimit'],
    ['a limit of 20 digits', { overdraftLimit: '1'.repeat(20) }, 'overdraftLimit'],
    ['lowercase currency', { currency: 'usd' }, 'currency'],
    ['an id with #', { id: 'a#b' }, 'id'],
    ['an unknown field', { balance: '100' }, 'balance'],
    [
      '17 metadata keys',
      { metadata: Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, 'v'])) },
      'metadata',
    ],
  ])('answers 422 for %s and enqueues nothing', async (_name, overrides, path) => {
    const api = createTestApi();
    const res = await api.post('/v1/accounts', { ...openBody, ...overrides });
    expect(res.status).toBe(422);
    expect((await errorOf(res)).details?.map((d) => d.path)).toContain(path);
    expect(api.ledger.enqueueCalls).toBe(0);
  });

  it('answers 422 for an exponent literal in the limit', async () => {
    const api = createTestApi();
    const res = await api.postRaw('/v1/accounts', '{"id":"a","currency":"EUR","overdraftLimit":1e3}');
    expect(res.status).toBe(422);
    expect((await errorOf(res)).details?.[0]?.path).toBe('overdraftLimit');
    expect(api.ledger.enqueueCalls).toBe(0);
  });
});

describe('GET /v1/accounts/{id}', () => {
  it('answers the account with money as strings and version as an integer', async () => {
    const api = createTestApi();
    seedAccounts(api.ledger);
    await api.post('/v1/transfers', transferBody({ amount: '1250' }));
    api.ledger.applyPending();
    const res = await api.get('/v1/accounts/acct-alice');
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      id: 'acct-alice',
      balance: '-1250',
      overdraftLimit: '100000',
      version: 1,
    });
  });

  it('answers 404 for an unknown account and for an id that cannot exist', async () => {
    const api = createTestApi();
    for (const path of ['/v1/accounts/nobody', '/v1/accounts/%C3%A9t%C3%A9', '/v1/accounts/a%23b']) {
      const res = await api.get(path);
      expect(res.status).toBe(404);
      expect((await errorOf(res)).code).toBe('not_found');
    }
  });
});

describe('GET /v1/accounts/{id}/transfers', () => {
  async function postedHistory(count: number) {
    const api = createTestApi();
    seedAccounts(api.ledger);
    for (let i = 1; i <= count; i++) {
      await api.post('/v1/transfers', transferBody({ id: `tx-${i}`, amount: String(i * 100) }));
    }
    api.ledger.applyPending();
    return api;
  }

  it('lists posted transfers newest first, rendered for the account', async () => {
    const api = await postedHistory(3);
    const res = await api.get('/v1/accounts/acct-bob/transfers');
    expect(res.status).toBe(200);
    const page = (await res.json()) as { data: Record<string, unknown>[]; nextCursor: string | null };
    expect(page.nextCursor).toBeNull();
    expect(page.data.map((e) => e.transferId)).toEqual(['tx-3', 'tx-2', 'tx-1']);
    expect(page.data[0]).toEqual({
      transferId: 'tx-3',
      type: 'CREDIT',
      direction: 'CREDIT',
      amount: '300',
      currency: 'EUR',
      counterpartyAccountId: 'acct-alice',
      balanceAfter: '600',
      heldAmountAfter: '0',
      availableBalanceAfter: '600',
      postedAt: '2025-03-01T09:00:00.000Z',
      version: 3,
      index: 0,
    });
  });

  it('pages with limit and nextCursor until the end', async () => {
    const api = await postedHistory(5);
    const seen: unknown[] = [];
    let path: string | undefined = '/v1/accounts/acct-alice/transfers?limit=2';
    for (let pages = 0; path !== undefined && pages < 10; pages++) {
      const page = (await (await api.get(path)).json()) as {
        data: { transferId: string; direction: string }[];
        nextCursor: string | null;
      };
      expect(page.data.length).toBeLessThanOrEqual(2);
      seen.push(...page.data.map((e) => `${e.direction}:${e.transferId}`));
      path =
        page.nextCursor === null
          ? undefined
          : `/v1/accounts/acct-alice/transfers?limit=2&cursor=${page.nextCursor}`;
    }
    expect(seen).toEqual(['DEBIT:tx-5', 'DEBIT:tx-4', 'DEBIT:tx-3', 'DEBIT:tx-2', 'DEBIT:tx-1']);
  });

  it('answers an empty page for an account with no postings', async () => {
    const api = createTestApi();
    seedAccounts(api.ledger);
    expect(await (await api.get('/v1/accounts/acct-bob/transfers')).json()).toEqual({
      data: [],
      nextCursor: null,
    });
  });

  it('answers 404 for an unknown account', async () => {
    const api = createTestApi();
    const res = await api.get('/v1/accounts/nobody/transfers');
    expect(res.status).toBe(404);
    expect((await errorOf(res)).code).toBe('not_found');
  });

  it('answers 400 invalid_cursor for a cursor the service did not issue', async () => {
    const api = await postedHistory(1);
    const res = await api.get('/v1/accounts/acct-alice/transfers?cursor=not-a-cursor');
    expect(res.status).toBe(400);
    expect((await errorOf(res)).code).toBe('invalid_cursor');
  });

  it.each(['0', '101', 'abc', '1.5', '-1', ' 5', '1e1'])('answers 422 for limit=%s', async (limit) => {
    const api = await postedHistory(1);
    const res = await api.get(`/v1/accounts/acct-alice/transfers?limit=${encodeURIComponent(limit)}`);
    expect(res.status).toBe(422);
    expect((await errorOf(res)).details).toEqual([
      { path: 'query.limit', message: 'must be an integer from 1 to 100' },
    ]);
  });

  it('answers 422 for an unknown query parameter', async () => {
    const api = await postedHistory(1);
    const res = await api.get('/v1/accounts/acct-alice/transfers?limt=5');
    expect(res.status).toBe(422);
    expect((await errorOf(res)).details?.[0]?.path).toBe('query.limt');
  });

  it('accepts limit=1 and limit=100', async () => {
    const api = await postedHistory(2);
    const one = (await (await api.get('/v1/accounts/acct-alice/transfers?limit=1')).json()) as {
      data: unknown[];
      nextCursor: string | null;
    };
    expect(one.data).toHaveLength(1);
    expect(one.nextCursor).not.toBeNull();
    expect((await api.get('/v1/accounts/acct-alice/transfers?limit=100')).status).toBe(200);
  });
});
