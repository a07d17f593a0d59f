import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PutItemCommand, QueryCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuditHandler } from '../../functions/auditor/auditor.js';
import { type Item, pageItem, transferItem } from '../../shared/adapters/dynamo-codec.js';
import { DynamoLedgerScanner } from '../../shared/adapters/dynamo-ledger-scanner.js';
import { DynamoLedgerStore } from '../../shared/adapters/dynamo-ledger-store.js';
import { DynamoRegionAdmin } from '../../shared/adapters/dynamo-region-admin.js';
import { DifferenceKind } from '../../shared/domain/audit.js';
import {
  atomicGroupCommand,
  encodeCommand,
  type HoldActionCommand,
  type LedgerCommand,
  openAccountCommand,
  partitionKeyOf,
  transferCommand,
} from '../../shared/domain/commands.js';
import { accountFingerprint, type TransferRequest, transferFingerprint } from '../../shared/domain/ledger.js';
import { expireRequestId, planBatch } from '../../shared/domain/planner.js';
import type { LedgerScanner } from '../../shared/ports/ledger-scanner.js';
import { AUDIT_DEFAULTS, AUDIT_METRICS, AuditService } from '../../shared/services/audit-service.js';
import { FailoverService } from '../../shared/services/failover-service.js';
import {
  type CommandSender,
  LedgerService,
  type RecordOutcome,
} from '../../shared/services/ledger-service.js';
import { REGION_DEFAULT, TABLE_NAME_DEFAULT } from '../../tools/local/stack.js';
import { createIsolatedLedger, type IsolatedLedger } from '../helpers/emulators.js';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const TSX = path.join(REPO_ROOT, 'node_modules/.bin/tsx');
const CLI_TIMEOUT_MS = 60_000;
const TRAFFIC_BATCHES_MAX = 500;
const AUDITS_UNDER_TRAFFIC_MIN = 3;

let ledger: IsolatedLedger;
let store: DynamoLedgerStore;
let consumer: LedgerService;
let clock = Date.parse('2026-03-01T12:00:00.000Z');
const now = () => new Date(clock);
let recordSeq = 0;

/** Applies commands as the consumer does, one batch; every record must be applied. */
async function apply(commands: readonly LedgerCommand[]): Promise<RecordOutcome[]> {
  const records = commands.map((c) => ({
    id: `rec-${recordSeq++}`,
    partitionKey: partitionKeyOf(c),
    data: encodeCommand(c),
  }));
  const { outcomes, failedFrom } = await consumer.handleBatch(records);
  expect(failedFrom).toBeUndefined();
  return outcomes.map((o) => {
    if (o === undefined) throw new Error('record not applied');
    return o;
  });
}

/** Records the transfer ACCEPTED (as the ingest does) and returns its stream command. */
async function accepted(request: TransferRequest): Promise<LedgerCommand> {
  const fingerprint = transferFingerprint(request);
  const at = now().toISOString();
  const recorded = await store.recordAccepted(request, fingerprint, at);
  expect(recorded.created).toBe(true);
  return transferCommand(request, fingerprint, at);
}

const transfer = (
  id: string,
  debitAccountId: string,
  creditAccountId: string,
  amount: bigint,
  more: Partial<TransferRequest> = {},
) => accepted({ id, debitAccountId, creditAccountId, amount, currency: more.currency ?? 'USD', ...more });

function holdAction(
  type: HoldActionCommand['type'],
  transferId: string,
  debitAccountId: string,
  amount?: bigint,
): HoldActionCommand {
  return {
    v: 1,
    type,
    transferId,
    debitAccountId,
    requestId: type === 'expire' ? expireRequestId(transferId) : `${type}:${transferId}`,
    requestedAt: now().toISOString(),
    ...(amount === undefined ? {} : { amount: amount.toString() }),
  };
}

function open(id: string, overdraftLimit = 0n, currency = 'USD'): LedgerCommand {
  const spec = { id, currency, overdraftLimit };
  return openAccountCommand(spec, ledger.config.ledgerRegion, accountFingerprint(spec), now().toISOString());
}

/** Transfers, a reversal, an atomic batch, a rejection, and holds captured, voided, expired and left open. */
async function mixedWorkload(): Promise<void> {
  await apply([
    open('treasury', 1_000_000n),
    open('alice'),
    open('bob'),
    open('carol'),
    open('eu-a', 5_000n, 'EUR'),
    open('eu-b', 0n, 'EUR'),
  ]);
  const funding = await apply([
    await transfer('t1', 'treasury', 'alice', 1_000n),
    await transfer('t2', 'treasury', 'bob', 500n),
    await transfer('t3', 'alice', 'bob', 200n),
    await transfer('t4', 'bob', 'carol', 100n),
    await transfer('t5', 'carol', 'alice', 10_000n),
    await transfer('e1', 'eu-a', 'eu-b', 700n, { currency: 'EUR' }),
  ]);
  expect(funding.map((o) => o.status)).toEqual([
    'posted',
    'posted',
    'posted',
    'posted',
    'rejected',
    'posted',
  ]);
  const holds = await apply([
    await transfer('h1', 'alice', 'carol', 300n, { holdTimeoutSeconds: 3_600 }),
    await transfer('h2', 'bob', 'alice', 50n, { holdTimeoutSeconds: 3_600 }),
    await transfer('h3', 'carol', 'bob', 30n, { holdTimeoutSeconds: 60 }),
    await transfer('h4', 'alice', 'bob', 40n, { holdTimeoutSeconds: 3_600 }),
  ]);
  expect(holds.map((o) => o.status)).toEqual(['held', 'held', 'held', 'held']);
  expect(
    (await apply([holdAction('capture', 'h1', 'alice', 120n), holdAction('void', 'h2', 'bob')])).map(
      (o) => o.status,
    ),
  ).toEqual(['captured', 'released']);
  clock += 120_000; // h3's timeout passes
  const legs = [
    { id: 'g1', debitAccountId: 'treasury', creditAccountId: 'carol', amount: 10n, currency: 'USD' },
    { id: 'g2', debitAccountId: 'carol', creditAccountId: 'bob', amount: 5n, currency: 'USD' },
  ].map((r) => ({ ...r, groupId: 'grp-1' }));
  for (const leg of legs) await store.recordAccepted(leg, transferFingerprint(leg), now().toISOString());
  const last = await apply([
    holdAction('expire', 'h3', 'carol'),
    await transfer('r1', 'bob', 'alice', 200n, { reversalOf: 't3' }),
    atomicGroupCommand(
      'grp-1',
      legs.map((l) => ({ request: l, fingerprint: transferFingerprint(l) })),
      now().toISOString(),
    ),
  ]);
  expect(last.map((o) => o.status)).toEqual(['released', 'posted', 'posted']);
}

/** Small pages and several segments, so paging and parallel segments are exercised. */
const options = { ...AUDIT_DEFAULTS, segments: 3, pageSize: 7, concurrency: 4 };
const audit = (
  scanner: LedgerScanner = new DynamoLedgerScanner(ledger.clients.dynamodb, ledger.config.tableName),
) => new AuditService(scanner, options).run();

async function addToBalance(accountId: string, delta: bigint): Promise<void> {
  await ledger.clients.dynamodb.send(
    new UpdateItemCommand({
      TableName: ledger.config.tableName,
      Key: { pk: { S: `ACCT#${accountId}` }, sk: { S: 'ACCT' } },
      UpdateExpression: 'ADD balance :d',
      ExpressionAttributeValues: { ':d': { N: delta.toString() } },
    }),
  );
}

beforeAll(async () => {
  ledger = await createIsolatedLedger('audit');
  store = new DynamoLedgerStore(ledger.clients.dynamodb, ledger.config.tableName, now);
  consumer = new LedgerService(store, store, ledger.config.ledgerRegion, now);
  await mixedWorkload();
});
afterAll(() => ledger?.cleanup());

describe('ledger audit against the emulators', () => {
  it('passes after a mixed workload, with every currency summing to zero', async () => {
    const report = await audit();
    expect(report.differences).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.counts).toMatchObject({
      accounts: 6,
      transfers: 13,
      transfersByStatus: { POSTED: 9, REJECTED: 1, HELD: 1, VOIDED: 1, EXPIRED: 1 },
      accountRereads: 0,
    });
    expect(report.currencies).toEqual([
      { currency: 'EUR', accounts: 2, readTotal: 0n, inFlight: 0n, total: 0n },
      { currency: 'USD', accounts: 4, readTotal: 0n, inFlight: 0n, total: 0n },
    ]);
    expect(report.inFlight).toMatchObject({ suspects: 0, settled: 0 });
    // The ledger the audit passed is the one we built: alice 1000 - 200 - 120 + 200, 40 held.
    expect(await store.getAccount('alice')).toMatchObject({ balance: 880n, heldAmount: 40n });
  });

  it('fails naming the account and the amount when a balance is changed behind the ledger', async () => {
    await addToBalance('bob', 100n);
    try {
      const report = await audit();
      expect(report.ok).toBe(false);
      expect(report.differences).toContainEqual(
        expect.objectContaining({
          kind: DifferenceKind.BALANCE_MISMATCH,
          accountId: 'bob',
          currency: 'USD',
          amount: 100n,
        }),
      );
      expect(report.differences).toContainEqual(
        expect.objectContaining({ kind: DifferenceKind.CURRENCY_TOTAL, currency: 'USD', amount: 100n }),
      );
      // Read again before being reported: a read racing a write looks the same at first.
      expect(report.counts.accountRereads).toBe(2);
    } finally {
      await addToBalance('bob', -100n);
    }
    expect((await audit()).ok).toBe(true);
  });

  it('fails naming the account and the transfer when a journal line is removed', async () => {
    const pages = await ledger.clients.dynamodb.send(
      new QueryCommand({
        TableName: ledger.config.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :e)',
        ExpressionAttributeValues: { ':pk': { S: 'ACCT#carol' }, ':e': { S: 'E#' } },
        ConsistentRead: true,
      }),
    );
    const page = (pages.Items ?? []).find((p) => p.lines?.L?.some((l) => l.M?.transferId?.S === 't4'));
    const index = page?.lines?.L?.findIndex((l) => l.M?.transferId?.S === 't4') ?? -1;
    if (page === undefined || index < 0) throw new Error("carol's line of t4 not found");
    const key = { pk: page.pk ?? { S: '' }, sk: page.sk ?? { S: '' } };
    await ledger.clients.dynamodb.send(
      new UpdateItemCommand({
        TableName: ledger.config.tableName,
        Key: key,
        UpdateExpression: `REMOVE #lines[${index}]`,
        ExpressionAttributeNames: { '#lines': 'lines' },
      }),
    );
    try {
      const report = await audit();
      expect(report.ok).toBe(false);
      expect(report.differences).toContainEqual(
        expect.objectContaining({ kind: DifferenceKind.BALANCE_MISMATCH, accountId: 'carol', amount: 100n }),
      );
      expect(report.differences).toContainEqual(
        expect.objectContaining({ kind: DifferenceKind.UNPAIRED_TRANSFER, transferId: 't4', amount: -100n }),
      );
      expect(report.inFlight).toMatchObject({ suspects: 1, settled: 0, rounds: 3 });
    } finally {
      await ledger.clients.dynamodb.send(
        new PutItemCommand({ TableName: ledger.config.tableName, Item: page }),
      );
    }
    expect((await audit()).ok).toBe(true);
  });

  it('stops with a clear error past its read bound', async () => {
    const scanner = new DynamoLedgerScanner(ledger.clients.dynamodb, ledger.config.tableName);
    await expect(new AuditService(scanner, { ...options, itemsMax: 20 }).run()).rejects.toThrow(
      /more than its bound of 20/,
    );
  });
});

describe('ledger audit under traffic', () => {
  /**
   * Writes between the audit's reads, on purpose: before reading an account for the first time, posts
   * a transfer from an account already read (whose snapshot then lacks the debit) and places a hold
   * the scan never saw. Exact checks must settle both as in flight, not report them.
   */
  class WritingScanner implements LedgerScanner {
    private readonly read: string[] = [];
    private writes = 0;

    constructor(private readonly inner: DynamoLedgerScanner) {}

    scan(o: Parameters<LedgerScanner['scan']>[0]) {
      return this.inner.scan(o);
    }

    getTransfers(ids: readonly string[], budget: Parameters<LedgerScanner['getTransfers']>[1]) {
      return this.inner.getTransfers(ids, budget);
    }

    async *readPartition(accountId: string, o: Parameters<LedgerScanner['readPartition']>[1]) {
      const usd = ['alice', 'bob', 'carol', 'treasury'];
      const before = this.read.find((a) => usd.includes(a) && a !== accountId);
      if (
        o.afterVersion === undefined &&
        usd.includes(accountId) &&
        before !== undefined &&
        this.writes < 2
      ) {
        this.writes++;
        const n = this.writes;
        await apply([
          await transfer(`live-t${n}`, before, accountId, 3n),
          await transfer(`live-h${n}`, accountId, before, 2n, { holdTimeoutSeconds: 3_600 }),
        ]);
      }
      if (o.afterVersion === undefined) this.read.push(accountId);
      yield* this.inner.readPartition(accountId, o);
    }
  }

  it('settles transfers and holds written between its reads, and stays exact', async () => {
    const scanner = new WritingScanner(
      new DynamoLedgerScanner(ledger.clients.dynamodb, ledger.config.tableName),
    );
    const report = await new AuditService(scanner, { ...options, concurrency: 1 }).run();
    expect(report.differences).toEqual([]);
    // live-t1's debit was written after its debit account was read: seen on one side, then settled.
    expect(report.inFlight.settledTransferIds).toEqual(
      expect.arrayContaining(['live-h1', 'live-h2', 'live-t1', 'live-t2']),
    );
    const usd = report.currencies.find((c) => c.currency === 'USD');
    expect(usd?.total).toBe(0n);
    expect(usd?.inFlight).not.toBe(0n);
    expect(usd?.readTotal).toBe(usd?.inFlight);
  });

  it('finds no difference while transfers, holds, captures and voids keep landing', async () => {
    const pairs = [
      ['treasury', 'carol'],
      ['carol', 'bob'],
      ['bob', 'alice'],
      ['alice', 'treasury'],
    ] as const;
    let stop = false;
    let batches = 0;
    const traffic = (async () => {
      for (let i = 0; i < TRAFFIC_BATCHES_MAX && !stop; i++) {
        const [from, to] = pairs[i % pairs.length] ?? pairs[0];
        const hold = `busy-h${i}`;
        await apply([
          await transfer(`busy-t${i}`, from, to, BigInt(1 + (i % 7))),
          await transfer(hold, to, from, 3n, { holdTimeoutSeconds: 3_600 }),
        ]);
        await apply([i % 2 === 0 ? holdAction('capture', hold, to, 2n) : holdAction('void', hold, to)]);
        batches++;
      }
    })();
    const reports = [];
    try {
      // Slow audits (3 items a request) so that many writes land between their reads.
      while (reports.length < AUDITS_UNDER_TRAFFIC_MIN || (batches < 30 && reports.length < 10)) {
        const scanner = new DynamoLedgerScanner(ledger.clients.dynamodb, ledger.config.tableName);
        reports.push(await new AuditService(scanner, { ...options, pageSize: 3 }).run());
      }
    } finally {
      stop = true;
      await traffic;
    }
    for (const report of reports) expect(report.differences).toEqual([]);
    expect(batches).toBeGreaterThan(0);
    expect((await audit()).ok).toBe(true);
  });
});

describe('scheduled audit handler', () => {
  it('publishes the run and its differences, and logs the named differences', async () => {
    const metrics: Record<string, number> = {};
    const logged: { level: string; message: string; extra: unknown }[] = [];
    const handler = createAuditHandler(
      new AuditService(new DynamoLedgerScanner(ledger.clients.dynamodb, ledger.config.tableName), options),
      {
        logger: {
          info: (message: string, extra: unknown) => logged.push({ level: 'info', message, extra }),
          error: (message: string, extra: unknown) => logged.push({ level: 'error', message, extra }),
        },
        metrics: {
          addMetric: (name, _unit, value) => {
            metrics[name] = value;
          },
          publishStoredMetrics: () => {},
        },
      },
    );
    expect(await handler()).toMatchObject({ ok: true, differences: 0 });
    expect(metrics).toMatchObject({ [AUDIT_METRICS.runs]: 1, [AUDIT_METRICS.differences]: 0 });
    await addToBalance('alice', -1n);
    try {
      expect(await handler()).toMatchObject({ ok: false });
      expect(metrics[AUDIT_METRICS.differences]).toBeGreaterThanOrEqual(1);
      const error = logged.find((l) => l.level === 'error');
      expect(error?.message).toBe('ledger audit found differences');
      expect(JSON.stringify(error?.extra)).toContain('account alice: balance');
    } finally {
      await addToBalance('alice', 1n);
    }
  });
});

/** Runs tools/audit.ts as `npm run audit:ledger` does, with a clean environment plus `env`. */
const cli = (args: readonly string[], env: Record<string, string> = {}) =>
  new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    const clean = Object.fromEntries(
      Object.entries(process.env).filter(
        ([k]) => !/^(LEDGER_TABLE_NAME|AWS_ENDPOINT_URL.*|AWS_REGION)$/.test(k),
      ),
    );
    execFile(
      TSX,
      ['tools/audit.ts', ...args],
      { cwd: REPO_ROOT, env: { ...clean, ...env }, timeout: CLI_TIMEOUT_MS },
      (error, stdout, stderr) =>
        resolve({
          code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1,
          stdout,
          stderr,
        }),
    );
  });

describe('ledger audit across two home regions (one table, the real LedgerService of each)', () => {
  const EAST = 'us-east-2';
  const WEST = 'us-west-2';
  let table: IsolatedLedger;
  let shared: DynamoLedgerStore;
  const services = new Map<string, LedgerService>();
  /** While paused, what the regions send each other waits here (in flight), else it is applied at once. */
  let paused = false;
  const held: { to: string; command: LedgerCommand }[] = [];

  const other = (region: string) => (region === EAST ? WEST : EAST);
  async function applyIn(region: string, commands: readonly LedgerCommand[]): Promise<RecordOutcome[]> {
    const service = services.get(region);
    if (service === undefined) throw new Error(`no region ${region}`);
    const { outcomes, failedFrom } = await service.handleBatch(
      commands.map((c) => ({
        id: `rec-${recordSeq++}`,
        partitionKey: partitionKeyOf(c),
        data: encodeCommand(c),
      })),
    );
    expect(failedFrom).toBeUndefined();
    return outcomes.map((o) => {
      if (o === undefined) throw new Error('record not applied');
      return o;
    });
  }
  /** Each region sends credit legs and credit results to the other, as Kinesis would. */
  const senderOf = (from: string): CommandSender => ({
    send: async (commands) => {
      if (paused) held.push(...commands.map((command) => ({ to: other(from), command })));
      else await applyIn(other(from), commands);
      return commands.map(() => ({ ok: true }));
    },
  });
  async function release(count = held.length): Promise<void> {
    for (const { to, command } of held.splice(0, count)) await applyIn(to, [command]);
  }
  async function accept(request: Omit<TransferRequest, 'currency'>): Promise<LedgerCommand> {
    const full = { ...request, currency: 'USD' };
    const fingerprint = transferFingerprint(full);
    expect((await shared.recordAccepted(full, fingerprint, now().toISOString())).created).toBe(true);
    return transferCommand(full, fingerprint, now().toISOString());
  }
  function openIn(region: string, id: string, overdraftLimit = 0n): LedgerCommand {
    const spec = { id, currency: 'USD', overdraftLimit };
    return openAccountCommand(spec, region, accountFingerprint(spec), now().toISOString());
  }
  const scannerOf = () => new DynamoLedgerScanner(table.clients.dynamodb, table.config.tableName);
  const auditOf = (homeRegion?: string, scanner: LedgerScanner = scannerOf()) =>
    new AuditService(scanner, { ...options, homeRegion }).run();
  const statusesOf = async (homeRegion?: string) => (await auditOf(homeRegion)).counts.transfersByStatus;
  const target = () => [
    '--table',
    table.config.tableName,
    '--endpoint',
    table.endpoints.dynamodbEndpoint,
    '--region',
    table.endpoints.region,
  ];

  beforeAll(async () => {
    table = await createIsolatedLedger('audit-regions');
    shared = new DynamoLedgerStore(table.clients.dynamodb, table.config.tableName, now);
    for (const region of [EAST, WEST])
      services.set(region, new LedgerService(shared, shared, region, now, { sender: senderOf(region) }));
    await applyIn(EAST, [openIn(EAST, 'e-bank', 1_000_000n), openIn(EAST, 'e-alice')]);
    await applyIn(WEST, [openIn(WEST, 'w-bob'), openIn(WEST, 'w-carol')]);
    expect(
      await applyIn(EAST, [
        await accept({ id: 'r-fund', debitAccountId: 'e-bank', creditAccountId: 'e-alice', amount: 1_000n }),
      ]),
    ).toEqual([{ status: 'posted' }]);
  });
  afterAll(() => table?.cleanup());

  it('passes after transfers posted, returned and captured across regions, in each region and as a whole', async () => {
    expect(
      await applyIn(EAST, [
        await accept({ id: 'r-x1', debitAccountId: 'e-alice', creditAccountId: 'w-bob', amount: 100n }),
      ]),
    ).toEqual([{ status: 'debited' }]);
    await applyIn(WEST, [
      {
        v: 1,
        type: 'update_account',
        accountId: 'w-carol',
        requestId: 'freeze-carol',
        requestedAt: now().toISOString(),
        status: 'FROZEN',
      },
    ]);
    await applyIn(EAST, [
      await accept({ id: 'r-x2', debitAccountId: 'e-alice', creditAccountId: 'w-carol', amount: 30n }),
    ]);
    await applyIn(EAST, [
      await accept({
        id: 'r-h1',
        debitAccountId: 'e-alice',
        creditAccountId: 'w-bob',
        amount: 50n,
        holdTimeoutSeconds: 3_600,
      }),
    ]);
    expect(await applyIn(EAST, [holdAction('capture', 'r-h1', 'e-alice', 20n)])).toEqual([
      { status: 'captured' },
    ]);
    expect(await shared.getTransfer('r-x2')).toMatchObject({ status: 'RETURNED', reason: 'account_frozen' });
    expect(await shared.getAccount('e-alice')).toMatchObject({ balance: 880n, heldAmount: 0n });
    expect(await shared.getAccount('w-bob')).toMatchObject({ balance: 120n });

    // Four accounts and two clearing accounts: us-east-2's took alice's debits, us-west-2's paid bob
    // (carol's credit failed, so no clearing account of us-west-2 moved for it).
    const whole = await auditOf();
    expect(whole.differences).toEqual([]);
    expect(whole.counts).toMatchObject({
      accounts: 6,
      voidPages: 0,
      transfersByStatus: { POSTED: 3, RETURNED: 1 },
    });
    expect(whole.currencies).toEqual([
      {
        currency: 'USD',
        accounts: 6,
        readTotal: 0n,
        inFlight: 0n,
        total: 0n,
        clearing: { accounts: 2, net: 0n },
      },
    ]);
    // Each region audits the accounts it writes: its side of each transfer, its clearing accounts.
    const east = await auditOf(EAST);
    expect(east.differences).toEqual([]);
    expect(east.counts).toMatchObject({ accounts: 3, accountsElsewhere: 3 });
    expect(east.currencies[0]?.clearing).toEqual({ accounts: 1, net: 120n });
    const west = await auditOf(WEST);
    expect(west.differences).toEqual([]);
    expect(west.currencies[0]?.clearing).toEqual({ accounts: 1, net: -120n });
    const text = await cli([...target(), '--home-region', EAST]);
    expect(text.stdout).toContain(
      'USD  3 accounts, total 0; 1 clearing accounts net 120 (in flight across regions)',
    );
    expect(text.code).toBe(0);
  });

  it('passes with a transfer in flight at each step, the clearing net showing what is on its way', async () => {
    paused = true;
    try {
      await applyIn(EAST, [
        await accept({ id: 'r-x3', debitAccountId: 'e-alice', creditAccountId: 'w-bob', amount: 10n }),
      ]);
      const debited = await auditOf();
      expect(debited.differences).toEqual([]);
      expect(debited.counts.transfersByStatus.DEBITED).toBe(1);
      expect(debited.currencies[0]?.clearing?.net).toBe(10n);
      await release(1); // the credit leg: applied in us-west-2, its result held
      const credited = await auditOf();
      expect(credited.differences).toEqual([]);
      expect(credited.currencies[0]?.clearing?.net).toBe(0n);
      expect((await auditOf(EAST)).ok).toBe(true);
      expect((await auditOf(WEST)).ok).toBe(true);
      await release();
    } finally {
      paused = false;
    }
    expect(await statusesOf()).toMatchObject({ POSTED: 4, RETURNED: 1 });
  });

  it('settles a transfer whose credit leg lands between the scan and the account reads', async () => {
    paused = true;
    try {
      await applyIn(EAST, [
        await accept({ id: 'r-x4', debitAccountId: 'e-alice', creditAccountId: 'w-bob', amount: 7n }),
      ]);
      // The scan sees r-x4 DEBITED without its leg; the leg is applied before the accounts are read.
      const inner = scannerOf();
      const racing: LedgerScanner = {
        scan: async (o) => {
          const scanned = await inner.scan(o);
          await release(1);
          return scanned;
        },
        readPartition: (id, o) => inner.readPartition(id, o),
        getTransfers: (ids, budget) => inner.getTransfers(ids, budget),
      };
      const report = await auditOf(undefined, racing);
      expect(report.differences).toEqual([]);
      expect(report.inFlight).toMatchObject({ suspects: 1, settled: 1, settledTransferIds: ['r-x4'] });
      await release();
    } finally {
      paused = false;
    }
    expect((await auditOf()).ok).toBe(true);
  });

  it('names the writes a fenced region made after the failover point, and counts none of them', async () => {
    // us-east-2 posts r-x9 and fails before the write replicates: planned, not committed.
    const command = await accept({
      id: 'r-x9',
      debitAccountId: 'e-alice',
      creditAccountId: 'e-bank',
      amount: 5n,
    });
    const state = await shared.readState({ accounts: ['e-alice', 'e-bank'], transfers: ['r-x9'] });
    const lost = planBatch([command], state, { region: EAST, now: now().toISOString() });
    expect(lost.outcomes).toEqual([{ status: 'posted' }]);
    const forkVersion = ((await shared.getAccount('e-alice'))?.version ?? 0n) + 1n;
    const admins = new Map(
      [EAST, WEST].map((r) => [r, new DynamoRegionAdmin(table.clients.dynamodb, table.config.tableName, r)]),
    );
    expect((await new FailoverService({ admins }).failover(EAST, WEST)).failed).toEqual([]);
    // Its write arrives afterwards (replicated late): pages and transfer, not the account items.
    const put = (item: Item) =>
      table.clients.dynamodb.send(new PutItemCommand({ TableName: table.config.tableName, Item: item }));
    for (const page of lost.writes.pages) await put(pageItem(page));
    for (const { after } of lost.writes.transfers) await put(transferItem(after));

    const report = await auditOf();
    expect(report.ok).toBe(false);
    expect(report.differences.map((d) => d.kind)).toEqual([
      DifferenceKind.VOIDED_WRITE,
      DifferenceKind.VOIDED_WRITE,
      DifferenceKind.VOIDED_WRITE,
    ]);
    expect(report.checks).toContainEqual({ check: 5, differences: 3 });
    expect(report.checks.filter((c) => c.check !== 5).every((c) => c.differences === 0)).toBe(true);
    expect(report.counts.voidPages).toBe(2);
    expect(report.differences).toContainEqual(
      expect.objectContaining({
        accountId: 'e-alice',
        version: forkVersion,
        epoch: 1n,
        transferIds: ['r-x9'],
        message: `account e-alice: page ${forkVersion} (transfers r-x9) written by us-east-2 at epoch 1 after the failover point (version ${forkVersion}): never counted; re-submit or resolve`,
      }),
    );
    expect(report.differences).toContainEqual(
      expect.objectContaining({
        kind: DifferenceKind.VOIDED_WRITE,
        transferId: 'r-x9',
        accountId: 'e-alice',
      }),
    );
    expect(report.currencies[0]).toMatchObject({ total: 0n, clearing: { net: 0n } });
    // The statement skips what the audit names.
    const statement = await shared.listStatement('e-alice', { limit: 100 });
    expect(statement.entries.map((e) => e.transferId)).not.toContain('r-x9');
    const text = await cli(target());
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(
      /5\. no write made by a fenced region after its failover point\.+ 3 difference\(s\)/,
    );
    expect(text.stdout).toContain(
      `  [5] voided_write             transfer r-x9 (POSTED 5 USD e-alice -> e-bank): its last write`,
    );
    // us-west-2 homes every account now; us-east-2 audits nothing.
    expect((await auditOf(WEST)).differences).toHaveLength(3);
    expect(await auditOf(EAST)).toMatchObject({ ok: true, counts: { accounts: 0 } });
  });
});

describe('npm run audit:ledger (tools/audit.ts)', () => {
  const target = () => [
    '--table',
    ledger.config.tableName,
    '--endpoint',
    ledger.endpoints.dynamodbEndpoint,
    '--region',
    ledger.endpoints.region,
  ];

  it('exits 0 on a consistent ledger and names what it checked', async () => {
    const { code, stdout } = await cli(target());
    expect(stdout).toContain(
      `Ledger audit of ${ledger.config.tableName} at ${ledger.endpoints.dynamodbEndpoint}`,
    );
    expect(stdout).toMatch(/USD {2}4 accounts, total 0/);
    expect(stdout).toContain('OK: no difference');
    expect(code).toBe(0);
  });

  it('exits 1 naming the account after tampering, in text and in JSON', async () => {
    await addToBalance('carol', 7n);
    try {
      const text = await cli(target());
      expect(text.code).toBe(1);
      expect(text.stdout).toContain('account carol: balance');
      expect(text.stdout).toContain('(+7 USD)');
      expect(text.stdout).toMatch(/FAILED: \d+ difference/);
      const json = await cli([...target(), '--json']);
      expect(json.code).toBe(1);
      const report = JSON.parse(json.stdout) as {
        ok: boolean;
        differences: { kind: string; accountId?: string; amount?: string }[];
      };
      expect(report.ok).toBe(false);
      expect(report.differences).toContainEqual(
        expect.objectContaining({ kind: 'balance_mismatch', accountId: 'carol', amount: '7' }),
      );
    } finally {
      await addToBalance('carol', -7n);
    }
    expect((await cli(target())).code).toBe(0);
  });

  it('takes its target from the environment, and says when it cannot reach it (exit 3)', async () => {
    const env = {
      LEDGER_TABLE_NAME: ledger.config.tableName,
      AWS_ENDPOINT_URL_DYNAMODB: ledger.endpoints.dynamodbEndpoint,
      AWS_REGION: ledger.endpoints.region,
    };
    expect((await cli(['--json'], env)).code).toBe(0);
    const down = await cli(['--endpoint', 'http://127.0.0.1:9', '--table', 'nope']);
    expect(down.code).toBe(3);
    expect(down.stderr).toContain('cannot reach DynamoDB at http://127.0.0.1:9');
  });

  it('documents its options and defaults to the local stack of npm start', async () => {
    const { code, stdout } = await cli(['--help']);
    expect(code).toBe(0);
    for (const option of ['--table', '--endpoint', '--json', '--items-max', '--segments', '--page-size'])
      expect(stdout).toContain(option);
    expect(stdout).toContain(`default ${TABLE_NAME_DEFAULT}`);
    expect(stdout).toContain(`default ${REGION_DEFAULT}`);
    expect(stdout).toContain('http://localhost:8000');
    expect((await cli(['--segments', '0'])).code).toBe(2);
  });
});
