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

const REVERSE = '/v1/transfers/tx-1/reverse';

/** Alice paid bob 1250: POSTED. */
async function posted(): Promise<TestApi> {
  const api = createTestApi();
  seedAccounts(api.ledger);
  await api.post('/v1/transfers', transferBody());
  api.ledger.applyPending();
  expect((await transferOf(api, 'tx-1')).status).toBe('POSTED');
  return api;
}

describe('POST /v1/transfers/{id}/reverse', () => {
  it('accepts the reversal (202), and once applied the money is back and the original names it', async () => {
    const api = await posted();
    const res = await api.post(REVERSE, { id: 'rev-1' });
    expect(res.status).toBe(202);
    expect(res.headers.get('Location')).toBe('/v1/transfers/rev-1');
    expect(await res.json()).toMatchObject({
      id: 'rev-1',
      status: 'ACCEPTED',
      debitAccountId: 'acct-bob',
      creditAccountId: 'acct-alice',
      amount: '1250',
      currency: 'EUR',
      reversalOf: 'tx-1',
      hold: false,
    });

    api.ledger.applyPending();
    expect(await transferOf(api, 'rev-1')).toMatchObject({ status: 'POSTED', reversalOf: 'tx-1' });
    expect(await transferOf(api, 'tx-1')).toMatchObject({ status: 'POSTED', reversedBy: 'rev-1' });
    for (const id of ['acct-alice', 'acct-bob']) {
      expect(await accountOf(api, id)).toMatchObject({ balance: '0', version: 2 });
    }
  });

  it('answers the same reversal again with 200 once final, and enqueues nothing more', async () => {
    const api = await posted();
    await api.post(REVERSE, { id: 'rev-1' });
    api.ledger.applyPending();
    const calls = api.ledger.enqueueCalls;
    const again = await api.post(REVERSE, { id: 'rev-1' });
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ id: 'rev-1', status: 'POSTED' });
    expect(api.ledger.enqueueCalls).toBe(calls);
  });

  it('answers 409 already_reversed for a second reversal under another id', async () => {
    const api = await posted();
    await api.post(REVERSE, { id: 'rev-1' });
    api.ledger.applyPending();
    const res = await api.post(REVERSE, { id: 'rev-2' });
    expect(res.status).toBe(409);
    expect(await errorOf(res)).toMatchObject({
      code: 'already_reversed',
      message: expect.stringContaining('rev-1'),
    });
    expect(api.ledger.transfers.has('rev-2')).toBe(false);
  });

  it('answers 409 transfer_not_reversible for the reversal of a reversal', async () => {
    const api = await posted();
    await api.post(REVERSE, { id: 'rev-1' });
    api.ledger.applyPending();
    const res = await api.post('/v1/transfers/rev-1/reverse', { id: 'rev-rev' });
    expect(res.status).toBe(409);
    expect((await errorOf(res)).code).toBe('transfer_not_reversible');
  });

  it('answers 409 transfer_not_posted for an ACCEPTED, a REJECTED and a HELD transfer', async () => {
    const api = createTestApi();
    seedAccounts(api.ledger);
    const fromBob = { debitAccountId: 'acct-bob', creditAccountId: 'acct-alice' };
    await api.post('/v1/transfers', transferBody({ id: 'rejected', ...fromBob }));
    await api.post('/v1/transfers', transferBody({ id: 'held', hold: true }));
    api.ledger.applyPending();
    await api.post('/v1/transfers', transferBody({ id: 'accepted' }));
    expect((await transferOf(api, 'rejected')).status).toBe('REJECTED');
    expect((await transferOf(api, 'held')).status).toBe('HELD');
    for (const id of ['accepted', 'rejected', 'held']) {
      const res = await api.post(`/v1/transfers/${id}/reverse`, { id: `rev-${id}` });
      expect(res.status).toBe(409);
      expect((await errorOf(res)).code).toBe('transfer_not_posted');
    }
    expect(api.ledger.transfers.has('rev-accepted')).toBe(false);
  });

  it('ends REJECTED insufficient_funds when the credited account has spent the money', async () => {
    const api = await posted();
    api.ledger.openAccount({ id: 'acct-carol', currency: 'EUR', overdraftLimit: 0n });
    await api.post(
      '/v1/transfers',
      transferBody({ id: 'spend', debitAccountId: 'acct-bob', creditAccountId: 'acct-carol' }),
    );
    api.ledger.applyPending();
    expect((await api.post(REVERSE, { id: 'rev-1' })).status).toBe(202);
    api.ledger.applyPending();
    expect(await transferOf(api, 'rev-1')).toMatchObject({
      status: 'REJECTED',
      reason: 'insufficient_funds',
    });
    expect(await transferOf(api, 'tx-1')).not.toHaveProperty('reversedBy');
    expect(await accountOf(api, 'acct-alice')).toMatchObject({ balance: '-1250' });
    expect(await accountOf(api, 'acct-bob')).toMatchObject({ balance: '0' });
  });

  it('moves back what a captured hold moved (capturedAmount), not the held amount', async () => {
    const api = createTestApi();
    seedAccounts(api.ledger);
    await api.post('/v1/transfers', transferBody({ hold: true }));
    api.ledger.applyPending();
    await api.post('/v1/transfers/tx-1/capture', { amount: '400' });
    api.ledger.applyPending();
    const res = await api.post(REVERSE, { id: 'rev-1' });
    expect(await res.json()).toMatchObject({ amount: '400' });
    api.ledger.applyPending();
    expect((await transferOf(api, 'rev-1')).status).toBe('POSTED');
    expect(await accountOf(api, 'acct-bob')).toMatchObject({ balance: '0' });
  });

  it('answers 409 idempotency_conflict when the reversal id is another transfer', async () => {
    const api = await posted();
    await api.post('/v1/transfers', transferBody({ id: 'taken', amount: '1' }));
    const res = await api.post(REVERSE, { id: 'taken' });
    expect(res.status).toBe(409);
    expect(await errorOf(res)).toMatchObject({
      code: 'idempotency_conflict',
      message: expect.stringContaining('taken'),
    });
  });

  it('answers 404 for an unknown transfer', async () => {
    const api = createTestApi();
    const res = await api.post('/v1/transfers/nope/reverse', { id: 'rev-1' });
    expect(res.status).toBe(404);
    expect((await errorOf(res)).code).toBe('not_found');
  });

  it.each([
    ['a missing id', {}, 'id'],
    ['an invalid id', { id: 'a b' }, 'id'],
    ['an unknown field', { id: 'rev-1', amount: '1' }, 'amount'],
  ])('answers 422 for %s', async (_name, body, path) => {
    const api = await posted();
    const res = await api.post(REVERSE, body);
    expect(res.status).toBe(422);
    expect((await errorOf(res)).details?.map((d) => d.path)).toContain(path);
  });

  it('answers 422 when the Idempotency-Key differs from the reversal id, and 415 without a body', async () => {
    const api = await posted();
    const res = await api.post(REVERSE, { id: 'rev-1' }, { 'Idempotency-Key': 'rev-2' });
    expect(res.status).toBe(422);
    expect((await errorOf(res)).details?.[0]?.path).toBe('headers.Idempotency-Key');
    expect((await api.postEmpty(REVERSE)).status).toBe(415);
    expect(api.ledger.transfers.has('rev-1')).toBe(false);
  });
});
