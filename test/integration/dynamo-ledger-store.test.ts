import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoLedgerStore } from '../../shared/adapters/dynamo-ledger-store.js';
import type { RuntimeConfig } from '../../shared/config.js';
import { openAccountCommand } from '../../shared/domain/commands.js';
import { InvalidCursorError } from '../../shared/domain/errors.js';
import { accountFingerprint, type TransferRequest, transferFingerprint } from '../../shared/domain/ledger.js';
import { planBatch } from '../../shared/domain/planner.js';
import { LedgerService } from '../../shared/services/ledger-service.js';
import { createIsolatedLedger, type TestClients } from '../helpers/emulators.js';
import { acceptTransfer, asRecords } from '../helpers/ledger-records.js';

let config: RuntimeConfig;
let clients: TestClients;
let cleanup: () => Promise<void>;
let store: DynamoLedgerStore;
let service: LedgerService;
let seq = 0;
const uid = (p: string) => `${p}-${Date.now().toString(36)}-${seq++}`;

beforeAll(async () => {
  ({ config, clients, cleanup } = await createIsolatedLedger('store'));
  store = new DynamoLedgerStore(clients.dynamodb, config.tableName);
  service = new LedgerService(store, store, config.ledgerRegion);
});
afterAll(async () => cleanup());

async function open(id: string, overdraftLimit = 0n, via = service) {
  const spec = { id, currency: 'USD', overdraftLimit };
  return via.handleBatch(
    asRecords([
      openAccountCommand(spec, config.ledgerRegion, accountFingerprint(spec), new Date().toISOString()),
    ]),
  );
}
const req = (
  debitAccountId: string,
  creditAccountId: string,
  amount: bigint,
  extra: Partial<TransferRequest> = {},
): TransferRequest => ({
  id: uid('t'),
  debitAccountId,
  creditAccountId,
  amount,
  currency: 'USD',
  ...extra,
});
/**
 * Records ACCEPTED and applies through the consumer's service, redelivering a record that lost its
 * races past the bound as the event source would (bounded); returns the outcome.
 */
async function transfer(request: TransferRequest, via = service) {
  const command = await acceptTransfer(store, request);
  const records = asRecords([command]);
  for (let delivery = 0; delivery < REDELIVERIES_MAX; delivery++) {
    const { outcomes, failedFrom } = await via.handleBatch(records);
    if (failedFrom === undefined) return { command, outcome: outcomes[0] };
  }
  throw new Error(`transfer ${request.id} not applied after ${REDELIVERIES_MAX} deliveries`);
}
const REDELIVERIES_MAX = 5;

describe('DynamoLedgerStore and LedgerService against DynamoDB Local', () => {
  it('opens an account once at balance 0, version 0', async () => {
    const id = uid('acct');
    expect((await open(id, 500n)).outcomes).toEqual([{ status: 'opened' }]);
    expect((await open(id, 500n)).outcomes).toEqual([{ status: 'duplicate' }]);
    expect(await store.getAccount(id)).toMatchObject({
      id,
      balance: 0n,
      heldAmount: 0n,
      status: 'OPEN',
      overdraftLimit: 500n,
      version: 0n,
    });
  });

  it('records a transfer ACCEPTED once and returns the existing record on a repeat', async () => {
    const request = req('a', 'b', 5n);
    const fp = transferFingerprint(request);
    expect((await store.recordAccepted(request, fp, '2026-01-01T00:00:00.000Z')).created).toBe(true);
    const again = await store.recordAccepted(request, fp, '2026-01-01T00:00:09.000Z');
    expect(again).toMatchObject({
      created: false,
      existing: { status: 'ACCEPTED', revision: 0n, acceptedAt: '2026-01-01T00:00:00.000Z' },
    });
  });

  it('posts atomically, applies a redelivery once, and records rejections with their reason', async () => {
    const [a, b] = [uid('a'), uid('b')];
    await open(a, 1000n);
    await open(b);
    const { command, outcome } = await transfer(req(a, b, 300n));
    expect(outcome).toEqual({ status: 'posted' });
    for (let i = 0; i < 3; i++)
      expect((await service.handleBatch(asRecords([command]))).outcomes).toEqual([{ status: 'duplicate' }]);
    expect(await store.getAccount(a)).toMatchObject({ balance: -300n, version: 1n });
    expect(await store.getAccount(b)).toMatchObject({ balance: 300n, version: 1n });
    expect(await store.getTransfer(command.transfer.id)).toMatchObject({ status: 'POSTED', revision: 1n });
    expect((await transfer(req(a, b, 701n))).outcome).toEqual({
      status: 'rejected',
      reason: 'insufficient_funds',
    });
    expect((await transfer(req(a, uid('nobody'), 1n))).outcome).toEqual({
      status: 'rejected',
      reason: 'account_not_found',
    });
    expect((await transfer(req(a, a, 1n))).outcome).toEqual({ status: 'rejected', reason: 'same_account' });
    expect(await store.getAccount(a)).toMatchObject({ balance: -300n, version: 1n });
  });

  it('dead-letters a record that does not match its accepted transfer, or that was never accepted', async () => {
    const [a, b] = [uid('a'), uid('b')];
    await open(a, 100n);
    await open(b);
    const command = await acceptTransfer(store, req(a, b, 5n));
    const tampered = { ...command, transfer: { ...command.transfer, amount: '50' } };
    const never = { ...command, transfer: { ...command.transfer, id: uid('never') } };
    const { outcomes } = await service.handleBatch(asRecords([tampered, never]));
    expect(outcomes.map((o) => o?.status)).toEqual(['dead_lettered', 'dead_lettered']);
    expect(await store.getAccount(a)).toMatchObject({ balance: 0n });
  });

  it('keeps exact balances when consumers race on one credit account', async () => {
    const hot = uid('hot');
    await open(hot);
    const sources = Array.from({ length: 12 }, () => uid('src'));
    await Promise.all(sources.map((s) => open(s, 1000n)));
    const consumers = sources.map(() => new LedgerService(store, store, config.ledgerRegion));
    await Promise.all(sources.map((s, i) => transfer(req(s, hot, 7n), consumers[i])));
    expect(await store.getAccount(hot)).toMatchObject({ balance: 84n, version: 12n });
    const page = await store.listStatement(hot, { limit: 100 });
    expect(page.entries.map((e) => e.version)).toEqual(Array.from({ length: 12 }, (_, i) => BigInt(12 - i)));
    expect(page.entries.map((e) => e.balanceAfter)).toEqual(
      Array.from({ length: 12 }, (_, i) => BigInt(84 - 7 * i)),
    );
  });

  it('never lets racing consumers overdraw: exactly as many debits post as the limit allows', async () => {
    const [payer, payee] = [uid('payer'), uid('payee')];
    await open(payer, 100n);
    await open(payee);
    const results = await Promise.all(
      Array.from({ length: 15 }, () =>
        transfer(req(payer, payee, 10n), new LedgerService(store, store, config.ledgerRegion)),
      ),
    );
    expect(results.filter((r) => r.outcome?.status === 'posted')).toHaveLength(10);
    expect(results.filter((r) => r.outcome?.status === 'rejected')).toHaveLength(5);
    expect(await store.getAccount(payer)).toMatchObject({ balance: -100n, version: 10n });
  });

  it('applies a transfer once when two consumers deliver it at the same moment (regression: idempotency token)', async () => {
    for (let round = 0; round < 5; round++) {
      const [a, b] = [uid('a'), uid('b')];
      await open(a, 100n);
      await open(b);
      const command = await acceptTransfer(store, req(a, b, 9n));
      const early = new LedgerService(
        store,
        store,
        config.ledgerRegion,
        () => new Date('2026-01-01T00:00:00.000Z'),
      );
      const late = new LedgerService(
        store,
        store,
        config.ledgerRegion,
        () => new Date('2026-01-01T00:00:01.000Z'),
      );
      const [x, y] = await Promise.all([
        early.handleBatch(asRecords([command])),
        late.handleBatch(asRecords([command])),
      ]);
      expect([x.outcomes[0]?.status, y.outcomes[0]?.status].sort()).toEqual(['duplicate', 'posted']);
      expect(await store.getAccount(a)).toMatchObject({ balance: -9n, version: 1n });
    }
  });

  it('answers conflict, writing nothing, when the state moved after the read', async () => {
    const [a, b] = [uid('a'), uid('b')];
    await open(a, 100n);
    await open(b);
    const command = await acceptTransfer(store, req(a, b, 1n));
    const state = await store.readState({ accounts: [a, b], transfers: [command.transfer.id] });
    await transfer(req(a, b, 2n));
    const stale = planBatch([command], state, { region: config.ledgerRegion, now: new Date().toISOString() });
    expect(await store.commit(stale.writes)).toBe('conflict');
    expect(await store.getAccount(a)).toMatchObject({ balance: -2n, version: 1n });
  });

  it('keeps amounts beyond 2^53 exact', async () => {
    const [a, b] = [uid('a'), uid('b')];
    await open(a, 9_999_999_999_999_999_999n);
    await open(b);
    await transfer(req(a, b, 9_007_199_254_740_993n));
    await transfer(req(a, b, 1n));
    expect((await store.getAccount(b))?.balance).toBe(9_007_199_254_740_994n);
    expect((await store.getAccount(a))?.balance).toBe(-9_007_199_254_740_994n);
  });

  it('pages a statement newest first across multi-line journal pages', async () => {
    const [a, b] = [uid('a'), uid('b')];
    await open(a, 1000n);
    await open(b);
    // Five transfers in one batch: one journal page of five lines per account.
    const commands = [];
    for (let i = 1; i <= 5; i++) commands.push(await acceptTransfer(store, req(a, b, BigInt(i))));
    await service.handleBatch(asRecords(commands));
    await transfer(req(a, b, 6n));
    const amounts: bigint[][] = [];
    let cursor: string | undefined;
    for (let i = 0; i < 10; i++) {
      const page = await store.listStatement(a, { limit: 4, ...(cursor === undefined ? {} : { cursor }) });
      amounts.push(page.entries.map((e) => e.amount));
      if (page.nextCursor === null) break;
      cursor = page.nextCursor;
    }
    expect(amounts).toEqual([
      [6n, 5n, 4n, 3n],
      [2n, 1n],
    ]);
    await expect(store.listStatement(a, { limit: 2, cursor: 'garbage' })).rejects.toBeInstanceOf(
      InvalidCursorError,
    );
  });

  it('lists stale ACCEPTED transfers and holds past their timeout for the scheduler', async () => {
    const [a, b] = [uid('a'), uid('b')];
    await open(a, 100n);
    await open(b);
    const stale = req(a, b, 1n);
    await store.recordAccepted(stale, transferFingerprint(stale), '2000-01-01T00:00:00.000Z');
    expect((await store.listStale('2000-01-01T00:00:01.000Z', 200)).map((t) => t.id)).toContain(stale.id);
    await store.markReenqueued(stale.id, '2000-01-01T00:00:05.000Z');
    expect((await store.listStale('2000-01-01T00:00:01.000Z', 200)).map((t) => t.id)).not.toContain(stale.id);
    const { command } = await transfer(req(a, b, 5n, { holdTimeoutSeconds: 1 }));
    expect(await store.getAccount(a)).toMatchObject({ balance: 0n, heldAmount: 5n });
    const later = new Date(Date.now() + 5_000).toISOString();
    expect((await store.listExpiredHolds(later, 200)).map((t) => t.id)).toContain(command.transfer.id);
    expect((await store.listExpiredHolds('2000-01-01T00:00:00.000Z', 200)).map((t) => t.id)).not.toContain(
      command.transfer.id,
    );
  });
});
