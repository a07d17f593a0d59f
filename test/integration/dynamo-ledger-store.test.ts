import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClients } from '../../shared/adapters/clients.js';
import { DynamoLedgerStore } from '../../shared/adapters/dynamo-ledger-store.js';
import type { RuntimeConfig } from '../../shared/config.js';
import { InvalidCursorError } from '../../shared/domain/errors.js';
import {
  accountFingerprint,
  decideTransfer,
  type TransferRequest,
  transferFingerprint,
} from '../../shared/domain/ledger.js';
import { createIsolatedLedger } from '../helpers/emulators.js';

const REGION = 'us-east-2';
let config: RuntimeConfig;
let cleanup: () => Promise<void>;
let store: DynamoLedgerStore;
let seq = 0;
const uid = (p: string) => `${p}-${Date.now().toString(36)}-${seq++}`;

beforeAll(async () => {
  ({ config, cleanup } = await createIsolatedLedger('store'));
  store = new DynamoLedgerStore(createClients(config).dynamodb, config.tableName);
});
afterAll(async () => cleanup());

async function open(id: string, overdraftLimit = 0n, currency = 'USD') {
  const spec = { id, currency, overdraftLimit };
  return store.openAccount(spec, REGION, accountFingerprint(spec), new Date().toISOString());
}

/** Records a transfer ACCEPTED (as the ingest does) and applies it (as the consumer does). */
async function transfer(debitAccountId: string, creditAccountId: string, amount: bigint, id = uid('t')) {
  const request: TransferRequest = { id, debitAccountId, creditAccountId, amount, currency: 'USD' };
  const fp = transferFingerprint(request);
  await store.recordAccepted(request, fp, new Date().toISOString());
  return { request, fp, result: await apply(request, fp) };
}
function apply(request: TransferRequest, fp: string) {
  return store.applyTransfer(request, fp, (d, c) => decideTransfer(request, d, c, REGION));
}

describe('DynamoLedgerStore against DynamoDB Local', () => {
  it('opens an account once at balance 0, version 0', async () => {
    const id = uid('acct');
    expect(await open(id, 500n)).toBe(true);
    expect(await open(id, 500n)).toBe(false);
    expect(await store.getAccount(id)).toMatchObject({
      id,
      balance: 0n,
      overdraftLimit: 500n,
      version: 0n,
      homeRegion: REGION,
    });
    expect(await store.getAccount(uid('missing'))).toBeUndefined();
  });

  it('records a transfer ACCEPTED once and returns the existing record on a repeat', async () => {
    const request: TransferRequest = {
      id: uid('t'),
      debitAccountId: 'a',
      creditAccountId: 'b',
      amount: 5n,
      currency: 'USD',
    };
    const fp = transferFingerprint(request);
    const first = await store.recordAccepted(request, fp, '2026-01-01T00:00:00.000Z');
    expect(first.created).toBe(true);
    const again = await store.recordAccepted(request, fp, '2026-01-01T00:00:09.000Z');
    expect(again).toMatchObject({
      created: false,
      existing: { status: 'ACCEPTED', fingerprint: fp, acceptedAt: '2026-01-01T00:00:00.000Z' },
    });
  });

  it('posts a transfer atomically: balances, versions, entries and the transfer record', async () => {
    const [a, b] = [uid('a'), uid('b')];
    await open(a, 1000n);
    await open(b);
    const { request, result } = await transfer(a, b, 300n);
    expect(result).toEqual({ status: 'posted' });
    expect(await store.getAccount(a)).toMatchObject({ balance: -300n, version: 1n });
    expect(await store.getAccount(b)).toMatchObject({ balance: 300n, version: 1n });
    expect(await store.getTransfer(request.id)).toMatchObject({
      status: 'POSTED',
      debitBalanceAfter: -300n,
      creditBalanceAfter: 300n,
    });
    const statement = await store.listStatement(a, { limit: 10 });
    expect(statement.entries).toEqual([
      expect.objectContaining({
        transferId: request.id,
        direction: 'DEBIT',
        amount: 300n,
        balanceAfter: -300n,
        version: 1n,
      }),
    ]);
    expect(statement.nextCursor).toBeNull();
  });

  it('applies a redelivered transfer once (the second apply is a duplicate, nothing moves)', async () => {
    const [a, b] = [uid('a'), uid('b')];
    await open(a, 100n);
    await open(b);
    const { request, fp } = await transfer(a, b, 40n);
    expect(await apply(request, fp)).toEqual({ status: 'duplicate' });
    expect(await apply(request, fp)).toEqual({ status: 'duplicate' });
    expect(await store.getAccount(a)).toMatchObject({ balance: -40n, version: 1n });
    expect(await store.getAccount(b)).toMatchObject({ balance: 40n, version: 1n });
  });

  it('applies a transfer once when two consumers deliver it at the same moment (regression: idempotency token)', async () => {
    for (let round = 0; round < 5; round++) {
      const [a, b] = [uid('a'), uid('b')];
      await open(a, 100n);
      await open(b);
      const request: TransferRequest = {
        id: uid('twice'),
        debitAccountId: a,
        creditAccountId: b,
        amount: 9n,
        currency: 'USD',
      };
      const fp = transferFingerprint(request);
      await store.recordAccepted(request, fp, new Date().toISOString());
      const { dynamodb } = createClients(config);
      const early = new DynamoLedgerStore(
        dynamodb,
        config.tableName,
        () => new Date('2026-01-01T00:00:00.000Z'),
      );
      const late = new DynamoLedgerStore(
        dynamodb,
        config.tableName,
        () => new Date('2026-01-01T00:00:01.000Z'),
      );
      const decide = (d: Parameters<typeof decideTransfer>[1], c: Parameters<typeof decideTransfer>[2]) =>
        decideTransfer(request, d, c, REGION);
      const results = await Promise.all([
        early.applyTransfer(request, fp, decide),
        late.applyTransfer(request, fp, decide),
      ]);
      expect(results.map((r) => r.status).sort()).toEqual(['duplicate', 'posted']);
      expect(await store.getAccount(a)).toMatchObject({ balance: -9n, version: 1n });
      dynamodb.destroy();
    }
  });

  it('records a rejection with its reason, moves nothing, and ignores a redelivery', async () => {
    const [a, b] = [uid('a'), uid('b')];
    await open(a, 10n);
    await open(b);
    const { request, fp, result } = await transfer(a, b, 11n);
    expect(result).toEqual({ status: 'rejected', reason: 'insufficient_funds' });
    expect(await store.getTransfer(request.id)).toMatchObject({
      status: 'REJECTED',
      reason: 'insufficient_funds',
    });
    expect(await apply(request, fp)).toEqual({ status: 'duplicate' });
    expect(await store.getAccount(a)).toMatchObject({ balance: 0n, version: 0n });
    const missing = await transfer(a, uid('nobody'), 1n);
    expect(missing.result).toEqual({ status: 'rejected', reason: 'account_not_found' });
    const same = await transfer(a, a, 1n);
    expect(same.result).toEqual({ status: 'rejected', reason: 'same_account' });
  });

  it('refuses a record whose body does not match the accepted transfer, or that was never accepted', async () => {
    const [a, b] = [uid('a'), uid('b')];
    await open(a, 100n);
    await open(b);
    const request: TransferRequest = {
      id: uid('t'),
      debitAccountId: a,
      creditAccountId: b,
      amount: 5n,
      currency: 'USD',
    };
    await store.recordAccepted(request, transferFingerprint(request), new Date().toISOString());
    const tampered = { ...request, amount: 50n };
    expect(await apply(tampered, transferFingerprint(tampered))).toMatchObject({ status: 'unappliable' });
    const never = { ...request, id: uid('never') };
    expect(await apply(never, transferFingerprint(never))).toMatchObject({ status: 'unappliable' });
    expect(await store.getAccount(a)).toMatchObject({ balance: 0n });
  });

  it('keeps exact balances when many transfers race on one credit account', async () => {
    const hot = uid('hot');
    await open(hot);
    const sources = Array.from({ length: 12 }, () => uid('src'));
    await Promise.all(sources.map((s) => open(s, 1000n)));
    const results = await Promise.all(sources.flatMap((s) => [transfer(s, hot, 7n), transfer(s, hot, 3n)]));
    expect(results.every((r) => r.result.status === 'posted')).toBe(true);
    expect(await store.getAccount(hot)).toMatchObject({ balance: 120n, version: 24n });
    const page = await store.listStatement(hot, { limit: 100 });
    expect(page.entries.map((e) => e.version)).toEqual(Array.from({ length: 24 }, (_, i) => BigInt(24 - i)));
    // Each entry's balanceAfter is the running sum in version order.
    let running = 0n;
    for (const e of [...page.entries].reverse()) {
      running += e.amount;
      expect(e.balanceAfter).toBe(running);
    }
  });

  it('never lets racing debits overdraw: exactly as many post as the limit allows', async () => {
    const [payer, payee] = [uid('payer'), uid('payee')];
    await open(payer, 100n);
    await open(payee);
    const results = await Promise.all(Array.from({ length: 15 }, () => transfer(payer, payee, 10n)));
    expect(results.filter((r) => r.result.status === 'posted')).toHaveLength(10);
    expect(results.filter((r) => r.result.status === 'rejected')).toHaveLength(5);
    expect(await store.getAccount(payer)).toMatchObject({ balance: -100n, version: 10n });
  });

  it('keeps amounts beyond 2^53 exact', async () => {
    const [a, b] = [uid('a'), uid('b')];
    await open(a, 9_999_999_999_999_999_999n);
    await open(b);
    await transfer(a, b, 9_007_199_254_740_993n);
    await transfer(a, b, 1n);
    expect((await store.getAccount(b))?.balance).toBe(9_007_199_254_740_994n);
    expect((await store.getAccount(a))?.balance).toBe(-9_007_199_254_740_994n);
  });

  it('pages a statement newest first with an opaque cursor', async () => {
    const [a, b] = [uid('a'), uid('b')];
    await open(a, 1000n);
    await open(b);
    for (let i = 1; i <= 5; i++) await transfer(a, b, BigInt(i));
    const first = await store.listStatement(a, { limit: 2 });
    expect(first.entries.map((e) => e.amount)).toEqual([5n, 4n]);
    expect(first.nextCursor).not.toBeNull();
    const second = await store.listStatement(a, { limit: 2, cursor: first.nextCursor ?? '' });
    expect(second.entries.map((e) => e.amount)).toEqual([3n, 2n]);
    const third = await store.listStatement(a, { limit: 2, cursor: second.nextCursor ?? '' });
    expect(third.entries.map((e) => e.amount)).toEqual([1n]);
    expect(third.nextCursor).toBeNull();
    await expect(store.listStatement(a, { limit: 2, cursor: 'garbage' })).rejects.toBeInstanceOf(
      InvalidCursorError,
    );
  });

  it('lists stale ACCEPTED transfers for the reconciler, and forgets them once final', async () => {
    const [a, b] = [uid('a'), uid('b')];
    await open(a, 100n);
    await open(b);
    const request: TransferRequest = {
      id: uid('stale'),
      debitAccountId: a,
      creditAccountId: b,
      amount: 1n,
      currency: 'USD',
    };
    const fp = transferFingerprint(request);
    await store.recordAccepted(request, fp, '2000-01-01T00:00:00.000Z');
    const stale = await store.listStale('2000-01-01T00:00:01.000Z', 200);
    expect(stale.map((t) => t.id)).toContain(request.id);
    await store.markReenqueued(request.id, '2000-01-01T00:00:05.000Z');
    expect((await store.listStale('2000-01-01T00:00:01.000Z', 200)).map((t) => t.id)).not.toContain(
      request.id,
    );
    expect((await store.listStale('2000-01-01T00:00:06.000Z', 200)).map((t) => t.id)).toContain(request.id);
    await apply(request, fp);
    expect((await store.listStale('2100-01-01T00:00:00.000Z', 200)).map((t) => t.id)).not.toContain(
      request.id,
    );
  });
});
