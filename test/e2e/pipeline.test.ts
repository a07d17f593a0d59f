import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildConsumerHandler } from '../../functions/ledger-consumer/consumer.js';
import { createClients } from '../../shared/adapters/clients.js';
import { DynamoLedgerScanner } from '../../shared/adapters/dynamo-ledger-scanner.js';
import { AUDIT_DEFAULTS, AuditService } from '../../shared/services/audit-service.js';
import { startLocalStack } from '../../tools/local/stack.js';
import { testEndpoints, uniqueName } from '../helpers/emulators.js';
import { call, eventually } from '../helpers/http.js';
import { eventOf, readAllRecords } from '../helpers/stream.js';

/**
 * The whole path on the real emulators: HTTP -> Kinesis -> poller -> consumer -> DynamoDB -> GET,
 * under a concurrent workload with duplicates and redelivered stream records.
 */
type Stack = Awaited<ReturnType<typeof startLocalStack>>;
let stack: Stack;
let api: string;

const USERS = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank'];
const LIMITS: Record<string, string> = {
  treasury: '100000000',
  alice: '0',
  bob: '500',
  carol: '0',
  dave: '0',
  erin: '250',
  frank: '0',
};
const CLIENTS = 12;
const TRANSFERS_PER_CLIENT = 25;
const DRAIN_TIMEOUT_MS = 90_000;
const REDELIVERIES_MAX = 5;

beforeAll(async () => {
  const endpoints = testEndpoints();
  stack = await startLocalStack({
    endpoints,
    region: endpoints.region,
    tableName: uniqueName('e2e'),
    streamName: uniqueName('e2e'),
    port: 0,
    log: () => {},
  });
  api = stack.apiUrl;
}, 120_000);
afterAll(async () => stack?.stop());

interface TransferView {
  id: string;
  status: string;
  reason?: string;
  debitAccountId: string;
  creditAccountId: string;
  amount: string;
}
interface AccountView {
  id: string;
  balance: string;
  overdraftLimit: string;
  version: number;
}

const rand = (n: number) => Math.floor(Math.random() * n);

describe('end to end through the local stack', () => {
  it('opens accounts, funds one from an overdraft account, and posts a transfer', async () => {
    for (const id of ['e1-treasury', 'e1-alice', 'e1-bob']) {
      const res = await call(api, 'POST', '/v1/accounts', {
        id,
        currency: 'USD',
        overdraftLimit: id === 'e1-treasury' ? '1000000' : '0',
      });
      expect(res.status).toBe(201);
    }
    expect(
      (
        await call(api, 'POST', '/v1/transfers', {
          id: 'e1-fund',
          debitAccountId: 'e1-treasury',
          creditAccountId: 'e1-alice',
          amount: '10000',
          currency: 'USD',
        })
      ).status,
    ).toBe(202);
    expect(
      (
        await call(api, 'POST', '/v1/transfers', {
          id: 'e1-pay',
          debitAccountId: 'e1-alice',
          creditAccountId: 'e1-bob',
          amount: 2500,
          currency: 'USD',
        })
      ).status,
    ).toBe(202);
    const posted = await eventually(async () => {
      const res = await call(api, 'GET', '/v1/transfers/e1-pay');
      return (res.body as TransferView).status === 'ACCEPTED' ? undefined : (res.body as TransferView);
    }, 30_000);
    expect(posted).toMatchObject({ status: 'POSTED', amount: '2500' });
    // Version counts writes: 2, or 1 if both transfers were applied in one coalesced batch.
    const alice = (await call(api, 'GET', '/v1/accounts/e1-alice')).body as AccountView;
    expect(alice.balance).toBe('7500');
    expect([1, 2]).toContain(alice.version);
    expect((await call(api, 'GET', '/v1/accounts/e1-bob')).body).toMatchObject({
      balance: '2500',
      version: 1,
    });
    expect((await call(api, 'GET', '/v1/accounts/e1-treasury')).body).toMatchObject({ balance: '-10000' });
    const statement = (await call(api, 'GET', '/v1/accounts/e1-alice/transfers')).body as {
      data: { transferId: string; balanceAfter: string }[];
    };
    expect(statement.data.map((e) => [e.transferId, e.balanceAfter])).toEqual([
      ['e1-pay', '7500'],
      ['e1-fund', '10000'],
    ]);
  });

  it('conserves money under concurrent clients, duplicates and redelivered records', async () => {
    const accounts = ['treasury', ...USERS].map((u) => `w-${u}`);
    for (const id of accounts) {
      const res = await call(api, 'POST', '/v1/accounts', {
        id,
        currency: 'USD',
        overdraftLimit: LIMITS[id.slice(2)],
      });
      expect(res.status).toBe(201);
    }
    const funding = USERS.map((u, i) => ({
      id: `w-fund-${i}`,
      debitAccountId: 'w-treasury',
      creditAccountId: `w-${u}`,
      amount: '1000',
      currency: 'USD',
    }));
    const batch = await call(api, 'POST', '/v1/transfers/batch', { transfers: funding });
    expect(batch.status).toBe(202);

    // Concurrent clients: random transfers among users, some too large (must be rejected), and
    // every fifth resent with the same id and body (must apply once).
    const accepted = new Set<string>(funding.map((f) => f.id));
    let duplicatesSent = 0;
    await Promise.all(
      Array.from({ length: CLIENTS }, async (_, c) => {
        for (let i = 0; i < TRANSFERS_PER_CLIENT; i++) {
          const from = USERS[rand(USERS.length)] as string;
          const to = USERS[rand(USERS.length)] as string;
          const body = {
            id: `w-${c}-${i}`,
            debitAccountId: `w-${from}`,
            creditAccountId: `w-${to}`,
            amount: String(1 + rand(i % 7 === 0 ? 5000 : 400)),
            currency: 'USD',
          };
          const res = await call(api, 'POST', '/v1/transfers', body);
          expect([200, 202]).toContain(res.status);
          accepted.add(body.id);
          if (i % 5 === 0) {
            duplicatesSent++;
            const again = await call(api, 'POST', '/v1/transfers', body);
            expect([200, 202]).toContain(again.status);
            expect((again.body as TransferView).id).toBe(body.id);
          }
        }
      }),
    );
    expect(duplicatesSent).toBeGreaterThan(0);

    // Redelivery: replay every record now in the stream into a second consumer, in reverse order.
    const { kinesis } = createClients(stack.config);
    const records = await readAllRecords(kinesis, stack.config.streamName, stack.config.awsRegion);
    kinesis.destroy();
    const replay = buildConsumerHandler(stack.config);
    for (let i = records.length; i > 0; i -= 100) {
      // As the event source does: a record that failed (a race lost past the bound) is redelivered.
      let batch = records.slice(Math.max(0, i - 100), i).reverse();
      for (let attempt = 0; attempt < REDELIVERIES_MAX && batch.length > 0; attempt++) {
        const failed = new Set((await replay(eventOf(batch))).batchItemFailures.map((f) => f.itemIdentifier));
        batch = batch.filter((r) => failed.has(r.kinesis.sequenceNumber));
      }
      expect(batch).toEqual([]);
    }

    // Every accepted transfer ends POSTED or REJECTED.
    const finals = await eventually(
      async () => {
        const views = await Promise.all(
          [...accepted].map(
            async (id) => (await call(api, 'GET', `/v1/transfers/${id}`)).body as TransferView,
          ),
        );
        return views.every((v) => v.status === 'POSTED' || v.status === 'REJECTED') ? views : undefined;
      },
      DRAIN_TIMEOUT_MS,
      500,
    );
    expect(finals).toHaveLength(accepted.size);
    for (const v of finals.filter((f) => f.status === 'REJECTED'))
      expect(['insufficient_funds', 'same_account']).toContain(v.reason);
    expect(finals.some((v) => v.status === 'REJECTED')).toBe(true);

    // Balances: conserved, within limits, and each equal to the sum of its posted transfers.
    const views = await Promise.all(
      accounts.map(async (id) => (await call(api, 'GET', `/v1/accounts/${id}`)).body as AccountView),
    );
    expect(views.reduce((sum, a) => sum + BigInt(a.balance), 0n)).toBe(0n);
    const expected = new Map(accounts.map((id) => [id, 0n]));
    const postings = new Map(accounts.map((id) => [id, 0]));
    for (const t of finals.filter((f) => f.status === 'POSTED')) {
      expected.set(t.debitAccountId, (expected.get(t.debitAccountId) ?? 0n) - BigInt(t.amount));
      expected.set(t.creditAccountId, (expected.get(t.creditAccountId) ?? 0n) + BigInt(t.amount));
      for (const id of new Set([t.debitAccountId, t.creditAccountId]))
        postings.set(id, (postings.get(id) ?? 0) + 1);
    }
    for (const a of views) {
      expect(BigInt(a.balance) >= -BigInt(a.overdraftLimit)).toBe(true);
      expect(BigInt(a.balance)).toBe(expected.get(a.id));
      // Exactly once: one statement line per posted transfer, no transfer twice.
      // Coalesced: one write (version) may carry several postings, never the reverse.
      expect(a.version).toBeLessThanOrEqual(postings.get(a.id) ?? 0);
      const entries = await statementOf(a.id);
      expect(entries.length).toBe(postings.get(a.id));
      expect(new Set(entries).size).toBe(entries.length);
    }

    // The audit (npm run audit:ledger's service) finds no difference after the workload.
    const { dynamodb } = createClients(stack.config);
    const report = await new AuditService(
      new DynamoLedgerScanner(dynamodb, stack.config.tableName),
      AUDIT_DEFAULTS,
    ).run();
    dynamodb.destroy();
    expect(report.differences).toEqual([]);
    expect(report.ok).toBe(true);
  }, 240_000);
});

async function statementOf(accountId: string): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < 100; page++) {
    const query: string = cursor === null ? '?limit=100' : `?limit=100&cursor=${encodeURIComponent(cursor)}`;
    const res = await call(api, 'GET', `/v1/accounts/${accountId}/transfers${query}`);
    const body = res.body as { data: { transferId: string }[]; nextCursor: string | null };
    ids.push(...body.data.map((e) => e.transferId));
    cursor = body.nextCursor;
    if (cursor === null) break;
  }
  return ids;
}
