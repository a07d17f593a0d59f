import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalStack } from '../../tools/local/stack.js';
import { testEndpoints, uniqueName } from '../helpers/emulators.js';
import { call, eventually } from '../helpers/http.js';

/** Every ledger operation through HTTP on the local stack (real emulators, poller, sweeper). */
type Stack = Awaited<ReturnType<typeof startLocalStack>>;
let stack: Stack;
let api: string;

interface TransferView {
  id: string;
  status: string;
  reason?: string;
  capturedAmount?: string;
  reversedBy?: string;
  history?: { action: string; outcome: string; reason?: string }[];
}
interface AccountView {
  balance: string;
  heldAmount: string;
  availableBalance: string;
  status: string;
}

beforeAll(async () => {
  const endpoints = testEndpoints();
  stack = await startLocalStack({
    endpoints,
    region: endpoints.region,
    tableName: uniqueName('ops'),
    streamName: uniqueName('ops'),
    port: 0,
    reconcileIntervalMs: 500,
    log: () => {},
  });
  api = stack.apiUrl;
}, 120_000);
afterAll(async () => stack?.stop());

const account = async (id: string) => (await call(api, 'GET', `/v1/accounts/${id}`)).body as AccountView;
const transfer = async (id: string) => (await call(api, 'GET', `/v1/transfers/${id}`)).body as TransferView;
const settled = (id: string, from: string[] = ['ACCEPTED']) =>
  eventually(async () => {
    const t = await transfer(id);
    return from.includes(t.status) ? undefined : t;
  }, 30_000);
async function open(id: string, overdraftLimit = '0') {
  expect((await call(api, 'POST', '/v1/accounts', { id, currency: 'USD', overdraftLimit })).status).toBe(201);
}
async function send(body: Record<string, unknown>, headers: Record<string, string> = {}) {
  return call(api, 'POST', '/v1/transfers', { currency: 'USD', ...body }, headers);
}

describe('ledger operations end to end', () => {
  it('holds, then captures part: POSTED with capturedAmount, the rest released', async () => {
    await open('h-bank', '100000');
    await open('h-shop');
    await send({ id: 'h1', debitAccountId: 'h-bank', creditAccountId: 'h-shop', amount: '500', hold: true });
    expect(await settled('h1')).toMatchObject({ status: 'HELD' });
    expect(await account('h-bank')).toMatchObject({
      balance: '0',
      heldAmount: '500',
      availableBalance: '-500',
    });
    expect((await call(api, 'POST', '/v1/transfers/h1/capture', { amount: '300' })).status).toBe(202);
    expect(await settled('h1', ['HELD'])).toMatchObject({ status: 'POSTED', capturedAmount: '300' });
    expect(await account('h-bank')).toMatchObject({ balance: '-300', heldAmount: '0' });
    expect(await account('h-shop')).toMatchObject({ balance: '300' });
    // Repeating the capture is idempotent; a void now is refused.
    expect((await call(api, 'POST', '/v1/transfers/h1/capture', { amount: '300' })).status).toBe(200);
    const late = await call(api, 'POST', '/v1/transfers/h1/void');
    expect(late.status).toBe(409);
    expect(late.body).toMatchObject({ error: { code: 'hold_not_active' } });
    expect((await call(api, 'POST', '/v1/transfers/nope/void')).status).toBe(404);
  });

  it('voids a hold, and a hold past its timeout ends EXPIRED within a few seconds', async () => {
    await open('v-bank', '100000');
    await open('v-shop');
    await send({ id: 'v1', debitAccountId: 'v-bank', creditAccountId: 'v-shop', amount: '70', hold: true });
    await settled('v1');
    expect((await call(api, 'POST', '/v1/transfers/v1/void')).status).toBe(202);
    expect(await settled('v1', ['HELD'])).toMatchObject({ status: 'VOIDED' });
    await send({
      id: 'v2',
      debitAccountId: 'v-bank',
      creditAccountId: 'v-shop',
      amount: '40',
      hold: true,
      holdTimeoutSeconds: 1,
    });
    expect(await settled('v2')).toMatchObject({ status: 'HELD' });
    const started = Date.now();
    expect(await settled('v2', ['HELD'])).toMatchObject({ status: 'EXPIRED' });
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(await account('v-bank')).toMatchObject({ balance: '0', heldAmount: '0' });
    expect((await call(api, 'POST', '/v1/transfers/v2/capture')).status).toBe(409);
  });

  it('reverses a posted transfer, and refuses to reverse money already spent', async () => {
    await open('r-bank', '100000');
    await open('r-alice');
    await open('r-bob');
    await send({ id: 'r1', debitAccountId: 'r-bank', creditAccountId: 'r-alice', amount: '100' });
    await settled('r1');
    const rev = await call(api, 'POST', '/v1/transfers/r1/reverse', { id: 'r1-rev' }, { Prefer: 'wait=5' });
    expect(rev.status).toBe(200);
    expect(rev.body).toMatchObject({ id: 'r1-rev', status: 'POSTED' });
    expect(await transfer('r1')).toMatchObject({ reversedBy: 'r1-rev' });
    expect(await account('r-alice')).toMatchObject({ balance: '0' });
    await send({ id: 'r2', debitAccountId: 'r-bank', creditAccountId: 'r-alice', amount: '50' });
    await settled('r2');
    await send({ id: 'r3', debitAccountId: 'r-alice', creditAccountId: 'r-bob', amount: '50' });
    await settled('r3');
    await call(api, 'POST', '/v1/transfers/r2/reverse', { id: 'r2-rev' });
    expect(await settled('r2-rev')).toMatchObject({ status: 'REJECTED', reason: 'insufficient_funds' });
  });

  it('freezes and closes accounts with the documented rules', async () => {
    await open('f-bank', '100000');
    await open('f-user');
    const freeze = await call(api, 'PATCH', '/v1/accounts/f-user', { status: 'FROZEN' });
    expect(freeze.status).toBe(200);
    expect(freeze.body).toMatchObject({ status: 'FROZEN' });
    await send({ id: 'f1', debitAccountId: 'f-bank', creditAccountId: 'f-user', amount: '10' });
    expect(await settled('f1')).toMatchObject({ status: 'REJECTED', reason: 'account_frozen' });
    expect((await call(api, 'PATCH', '/v1/accounts/f-user', { status: 'OPEN' })).status).toBe(200);
    await send({ id: 'f2', debitAccountId: 'f-bank', creditAccountId: 'f-user', amount: '10' });
    await settled('f2');
    const refused = await call(api, 'PATCH', '/v1/accounts/f-user', { status: 'CLOSED' });
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ error: { code: 'account_not_empty' } });
    await send({ id: 'f3', debitAccountId: 'f-user', creditAccountId: 'f-bank', amount: '10' });
    await settled('f3');
    expect((await call(api, 'PATCH', '/v1/accounts/f-user', { status: 'CLOSED' })).status).toBe(200);
    await send({ id: 'f4', debitAccountId: 'f-bank', creditAccountId: 'f-user', amount: '1' });
    expect(await settled('f4')).toMatchObject({ status: 'REJECTED', reason: 'account_closed' });
  });

  it('applies an atomic batch as one unit, or rejects every leg', async () => {
    await open('a-buyer', '0');
    await open('a-bank', '100000');
    await open('a-seller');
    await open('a-fee');
    const ok = await call(api, 'POST', '/v1/transfers/batch', {
      atomic: true,
      transfers: [
        { id: 'a1', debitAccountId: 'a-bank', creditAccountId: 'a-buyer', amount: '100', currency: 'USD' },
        { id: 'a2', debitAccountId: 'a-buyer', creditAccountId: 'a-seller', amount: '95', currency: 'USD' },
        { id: 'a3', debitAccountId: 'a-buyer', creditAccountId: 'a-fee', amount: '5', currency: 'USD' },
      ],
    });
    expect(ok.status).toBe(202);
    for (const id of ['a1', 'a2', 'a3']) expect(await settled(id)).toMatchObject({ status: 'POSTED' });
    await call(api, 'POST', '/v1/transfers/batch', {
      atomic: true,
      transfers: [
        { id: 'b1', debitAccountId: 'a-bank', creditAccountId: 'a-buyer', amount: '10', currency: 'USD' },
        { id: 'b2', debitAccountId: 'a-buyer', creditAccountId: 'a-seller', amount: '11', currency: 'USD' },
      ],
    });
    expect(await settled('b1')).toMatchObject({ status: 'REJECTED', reason: 'linked_transfer_failed' });
    expect(await settled('b2')).toMatchObject({ status: 'REJECTED', reason: 'insufficient_funds' });
    expect(await account('a-buyer')).toMatchObject({ balance: '0' });
  });

  it('answers 200 with the final state under Prefer: wait, and shows holds in the statement', async () => {
    await open('w-bank', '100000');
    await open('w-shop');
    const posted = await send(
      { id: 'w1', debitAccountId: 'w-bank', creditAccountId: 'w-shop', amount: '5' },
      { Prefer: 'wait=5' },
    );
    expect(posted.status).toBe(200);
    expect(posted.body).toMatchObject({ status: 'POSTED' });
    await send(
      { id: 'w2', debitAccountId: 'w-bank', creditAccountId: 'w-shop', amount: '7', hold: true },
      { Prefer: 'wait=5' },
    );
    const captured = await call(api, 'POST', '/v1/transfers/w2/capture', undefined, { Prefer: 'wait=5' });
    expect(captured.status).toBe(200);
    const statement = (await call(api, 'GET', '/v1/accounts/w-bank/transfers')).body as {
      data: { transferId: string; type: string; balanceAfter: string; availableBalanceAfter: string }[];
    };
    expect(
      statement.data.map((e) => [e.transferId, e.type, e.balanceAfter, e.availableBalanceAfter]),
    ).toEqual([
      ['w2', 'CAPTURE', '-12', '-12'],
      ['w2', 'HOLD', '-5', '-12'],
      ['w1', 'DEBIT', '-5', '-5'],
    ]);
  });
});
