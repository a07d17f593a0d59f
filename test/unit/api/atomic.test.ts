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

const BATCH = '/v1/transfers/batch';

interface AtomicResponse {
  groupId: string;
  results: {
    index: number;
    id: string;
    status: string;
    httpStatus: number;
    transfer: { groupId?: string };
  }[];
}

/** Alice (overdraft 100000), bob and carol (no overdraft), all EUR. */
function threeAccounts(): TestApi {
  const api = createTestApi();
  seedAccounts(api.ledger);
  api.ledger.openAccount({ id: 'acct-carol', currency: 'EUR', overdraftLimit: 0n });
  return api;
}

const aliceToBob = (amount: string) => transferBody({ id: 'leg-0', amount });
const bobToCarol = (amount: string) =>
  transferBody({ id: 'leg-1', debitAccountId: 'acct-bob', creditAccountId: 'acct-carol', amount });

async function balances(api: TestApi): Promise<unknown[]> {
  const views = await Promise.all(['acct-alice', 'acct-bob', 'acct-carol'].map((id) => accountOf(api, id)));
  return views.map((v) => v.balance);
}

describe('POST /v1/transfers/batch with "atomic": true', () => {
  it('accepts the legs as one command; a leg may spend what an earlier leg credited; all POSTED', async () => {
    const api = threeAccounts();
    const res = await api.post(BATCH, { atomic: true, transfers: [aliceToBob('500'), bobToCarol('300')] });
    expect(res.status).toBe(202);
    const body = (await res.json()) as AtomicResponse;
    expect(body.groupId).toMatch(/^grp-/);
    expect(body.results.map((r) => [r.index, r.id, r.status, r.httpStatus, r.transfer.groupId])).toEqual([
      [0, 'leg-0', 'ACCEPTED', 202, body.groupId],
      [1, 'leg-1', 'ACCEPTED', 202, body.groupId],
    ]);
    expect(api.ledger.enqueueCalls).toBe(1);
    expect(api.ledger.commandsOf('atomic_group')).toEqual([
      expect.objectContaining({ groupId: body.groupId, legs: [expect.anything(), expect.anything()] }),
    ]);
    expect(api.ledger.commandsOf('transfer')).toHaveLength(0);

    api.ledger.applyPending();
    for (const id of ['leg-0', 'leg-1']) {
      expect(await transferOf(api, id)).toMatchObject({ status: 'POSTED', groupId: body.groupId });
    }
    expect(await balances(api)).toEqual(['-500', '200', '300']);
  });

  it('rejects every leg when one fails: its own reason, linked_transfer_failed for the others, nothing moved', async () => {
    const api = threeAccounts();
    const third = transferBody({ id: 'leg-2', amount: '1' });
    await api.post(BATCH, { atomic: true, transfers: [aliceToBob('500'), bobToCarol('800'), third] });
    api.ledger.applyPending();
    expect(await transferOf(api, 'leg-0')).toMatchObject({
      status: 'REJECTED',
      reason: 'linked_transfer_failed',
    });
    expect(await transferOf(api, 'leg-1')).toMatchObject({
      status: 'REJECTED',
      reason: 'insufficient_funds',
    });
    expect(await transferOf(api, 'leg-2')).toMatchObject({
      status: 'REJECTED',
      reason: 'linked_transfer_failed',
    });
    expect(await balances(api)).toEqual(['0', '0', '0']);
    const statement = (await (await api.get('/v1/accounts/acct-alice/transfers')).json()) as {
      data: unknown[];
    };
    expect(statement.data).toEqual([]);
  });

  it('rejects every leg when one touches a frozen account', async () => {
    const api = threeAccounts();
    expect((await api.patch('/v1/accounts/acct-carol', { status: 'FROZEN' })).status).toBe(200);
    await api.post(BATCH, { atomic: true, transfers: [aliceToBob('500'), bobToCarol('300')] });
    api.ledger.applyPending();
    expect(await transferOf(api, 'leg-0')).toMatchObject({ reason: 'linked_transfer_failed' });
    expect(await transferOf(api, 'leg-1')).toMatchObject({ reason: 'account_frozen' });
  });

  it('answers a resent batch with the same group, and with the final states once applied', async () => {
    const api = threeAccounts();
    const transfers = [aliceToBob('500'), bobToCarol('300')];
    const first = (await (await api.post(BATCH, { atomic: true, transfers })).json()) as AtomicResponse;
    const again = (await (await api.post(BATCH, { atomic: true, transfers })).json()) as AtomicResponse;
    expect(again.groupId).toBe(first.groupId);
    api.ledger.applyPending();
    const calls = api.ledger.enqueueCalls;
    const res = await api.post(BATCH, { atomic: true, transfers });
    expect(res.status).toBe(202);
    const final = (await res.json()) as AtomicResponse;
    expect(final.results.map((r) => [r.status, r.httpStatus])).toEqual([
      ['POSTED', 200],
      ['POSTED', 200],
    ]);
    expect(api.ledger.enqueueCalls).toBe(calls);
    expect(await balances(api)).toEqual(['-500', '200', '300']);
  });

  it('accepts 25 legs and answers 422 for 26, recording nothing', async () => {
    const legs = (n: number) =>
      Array.from({ length: n }, (_, i) => transferBody({ id: `leg-${i}`, amount: '1' }));
    const api = threeAccounts();
    expect((await api.post(BATCH, { atomic: true, transfers: legs(25) })).status).toBe(202);
    const over = threeAccounts();
    const res = await over.post(BATCH, { atomic: true, transfers: legs(26) });
    expect(res.status).toBe(422);
    expect((await errorOf(res)).details).toEqual([
      { path: 'transfers', message: 'an atomic batch has at most 25 transfers' },
    ]);
    expect(over.ledger.recordCalls).toBe(0);
  });

  it('answers 422 naming every invalid leg, recording and enqueuing nothing', async () => {
    const api = threeAccounts();
    const res = await api.post(BATCH, {
      atomic: true,
      transfers: [
        aliceToBob('500'),
        { ...bobToCarol('0') },
        transferBody({ id: 'leg-2', currency: 'eur' }),
        'x',
      ],
    });
    expect(res.status).toBe(422);
    const error = await errorOf(res);
    expect(error.code).toBe('validation_failed');
    expect(error.details?.map((d) => d.path)).toEqual([
      'transfers.1.amount',
      'transfers.2.currency',
      'transfers.2.currency',
      'transfers.3',
    ]);
    expect(api.ledger.recordCalls).toBe(0);
    expect(api.ledger.enqueueCalls).toBe(0);
  });

  it('answers 422 for a refused number literal in one leg', async () => {
    const api = threeAccounts();
    const text = JSON.stringify({ atomic: true, transfers: [aliceToBob('500'), bobToCarol('300')] }).replace(
      '"300"',
      '3e2',
    );
    const res = await api.postRaw(BATCH, text);
    expect(res.status).toBe(422);
    expect((await errorOf(res)).details?.map((d) => d.path)).toEqual(['transfers.1.amount']);
    expect(api.ledger.recordCalls).toBe(0);
  });

  it.each([
    ['a hold', { hold: true }, 'transfers.0.hold'],
    ['a hold timeout', { holdTimeoutSeconds: 60 }, 'transfers.0.holdTimeoutSeconds'],
  ])('answers 422 for a leg with %s', async (_name, extra, path) => {
    const api = threeAccounts();
    const res = await api.post(BATCH, { atomic: true, transfers: [{ ...aliceToBob('5'), ...extra }] });
    expect(res.status).toBe(422);
    expect((await errorOf(res)).details?.map((d) => d.path)).toContain(path);
    expect(api.ledger.recordCalls).toBe(0);
  });

  it('answers 422 for two legs with one id', async () => {
    const api = threeAccounts();
    const res = await api.post(BATCH, { atomic: true, transfers: [aliceToBob('5'), aliceToBob('5')] });
    expect(res.status).toBe(422);
    expect((await errorOf(res)).details).toEqual([
      { path: 'transfers', message: 'transfer ids in an atomic batch must differ' },
    ]);
  });

  it('answers 409 idempotency_conflict naming a leg id that exists with a different request', async () => {
    const api = threeAccounts();
    await api.post('/v1/transfers', aliceToBob('1'));
    const res = await api.post(BATCH, { atomic: true, transfers: [aliceToBob('500'), bobToCarol('300')] });
    expect(res.status).toBe(409);
    expect(await errorOf(res)).toMatchObject({
      code: 'idempotency_conflict',
      message: expect.stringContaining('leg-0'),
    });
    expect(api.ledger.commandsOf('atomic_group')).toHaveLength(0);
  });

  it('answers 503 with Retry-After when the stream refuses', async () => {
    const api = threeAccounts();
    api.ledger.refuseEnqueue = 'ProvisionedThroughputExceededException';
    const res = await api.post(BATCH, { atomic: true, transfers: [aliceToBob('5')] });
    expect(res.status).toBe(503);
    expect(res.headers.get('Retry-After')).toBe('1');
  });

  it('treats "atomic": false as the ordinary batch, and refuses a non-boolean', async () => {
    const api = threeAccounts();
    const res = await api.post(BATCH, { atomic: false, transfers: [aliceToBob('5'), { id: 'bad' }] });
    expect(res.status).toBe(202);
    const body = (await res.json()) as { results: { status: string }[]; groupId?: string };
    expect(body.results.map((r) => r.status)).toEqual(['ACCEPTED', 'ERROR']);
    expect(body).not.toHaveProperty('groupId');
    const bad = await api.post(BATCH, { atomic: 'yes', transfers: [aliceToBob('5')] });
    expect(bad.status).toBe(422);
    expect((await errorOf(bad)).details?.[0]?.path).toBe('atomic');
  });
});
