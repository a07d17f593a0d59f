import { ScanCommand } from '@aws-sdk/client-dynamodb';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildIngestApp, type IngestApp } from '../../functions/ingest-api/app.js';
import { createIsolatedLedger, type IsolatedLedger } from '../helpers/emulators.js';
import { readAllRecords } from '../helpers/stream.js';
import { BODY_CANARY, type HostileRequest, hostileRequest, SECRET_CANARY } from './hostile-requests.js';

/**
 * Hostile input against the real app: buildIngestApp over a table and a stream of its own on the
 * emulators, with its real (Powertools) logger. At least 1,000 malformed or abusive requests
 * across every route: none may answer 5xx, none may write to the table or the stream, and no log
 * line may carry a body fragment or a secret header.
 */
const RUNS = 1_200;
const STATUSES_ALLOWED = new Set([200, 202, 400, 404, 405, 413, 415, 422]);

let ledger: IsolatedLedger;
let app: IngestApp;

beforeAll(async () => {
  ledger = await createIsolatedLedger('fuzz', { shards: 2 });
  app = buildIngestApp(ledger.config);
});
afterAll(() => ledger?.cleanup());

async function itemCount(): Promise<number> {
  let count = 0;
  let start: Record<string, import('@aws-sdk/client-dynamodb').AttributeValue> | undefined;
  for (let page = 0; page < 100; page++) {
    const out = await ledger.clients.dynamodb.send(
      new ScanCommand({
        TableName: ledger.config.tableName,
        Select: 'COUNT',
        ConsistentRead: true,
        ...(start === undefined ? {} : { ExclusiveStartKey: start }),
      }),
    );
    count += out.Count ?? 0;
    start = out.LastEvaluatedKey;
    if (start === undefined) break;
  }
  return count;
}

async function writes(): Promise<{ items: number; records: number }> {
  const records = await readAllRecords(
    ledger.clients.kinesis,
    ledger.config.streamName,
    ledger.config.awsRegion,
  );
  return { items: await itemCount(), records: records.length };
}

/** Everything written to stdout and stderr (the Powertools logger writes there) until restored; kept, not shown. */
function captureOutput(): { text: () => string; restore: () => void } {
  const chunks: string[] = [];
  const original = {
    out: process.stdout.write.bind(process.stdout),
    err: process.stderr.write.bind(process.stderr),
  };
  const tap = (chunk: unknown, ...rest: unknown[]): boolean => {
    chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
    const callback = rest.find((r): r is () => void => typeof r === 'function');
    callback?.();
    return true;
  };
  process.stdout.write = tap as typeof process.stdout.write;
  process.stderr.write = tap as typeof process.stderr.write;
  return {
    text: () => chunks.join(''),
    restore: () => {
      process.stdout.write = original.out;
      process.stderr.write = original.err;
    },
  };
}

async function send(request: HostileRequest): Promise<{ status: number; body: unknown }> {
  const res = await app.request(request.path, {
    method: request.method,
    headers: request.headers,
    ...(request.body === undefined ? {} : { body: request.body }),
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // HEAD and the like: no JSON
  }
  return { status: res.status, body };
}

describe('hostile input against the real app on the emulators', () => {
  it('answers 1,000+ malformed or abusive requests on every route without a 5xx, a write or a leak', async () => {
    expect(await writes()).toEqual({ items: 0, records: 0 });
    const prototypeBefore = Object.getOwnPropertyNames(Object.prototype).sort();
    const byCategory = new Map<string, Map<number, number>>();
    const failures: string[] = [];
    let sent = 0;
    const output = captureOutput();
    try {
      await fc.assert(
        fc.asyncProperty(hostileRequest, async (request) => {
          const { status, body } = await send(request);
          sent += 1;
          const statuses = byCategory.get(request.category) ?? new Map<number, number>();
          statuses.set(status, (statuses.get(status) ?? 0) + 1);
          byCategory.set(request.category, statuses);
          const what = `${request.category}: ${request.method} ${request.path.slice(0, 80)} -> ${status}`;
          if (!STATUSES_ALLOWED.has(status)) failures.push(what);
          // The only 2xx a hostile POST may get is a batch whose every item is refused.
          if (request.method === 'POST' && status === 202) {
            const results = (body as { results?: { status: string }[] }).results ?? [];
            if (results.some((r) => r.status !== 'ERROR')) failures.push(`${what}: an item was accepted`);
          }
          expect(status, what).toBeLessThan(500);
        }),
        { numRuns: RUNS },
      );
    } finally {
      output.restore();
    }
    const logs = output.text();
    const summary = [...byCategory]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([category, statuses]) => {
        const total = [...statuses.values()].reduce((a, b) => a + b, 0);
        const detail = [...statuses]
          .sort(([a], [b]) => a - b)
          .map(([s, n]) => `${s}×${n}`)
          .join(' ');
        return `  ${category.padEnd(46)} ${String(total).padStart(5)}  ${detail}`;
      });
    console.log(`hostile requests: ${sent}\n${summary.join('\n')}`);

    expect(failures).toEqual([]);
    expect(sent).toBeGreaterThanOrEqual(1_000);
    expect(byCategory.size).toBe(17);
    // Nothing written, nothing polluted.
    expect(await writes()).toEqual({ items: 0, records: 0 });
    expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(prototypeBefore);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    // The logger really wrote (one access line per request), and never a body or a secret.
    expect(logs.match(/"message":"request"/g)?.length ?? 0).toBeGreaterThanOrEqual(sent);
    expect(logs).not.toContain(BODY_CANARY);
    expect(logs).not.toContain(SECRET_CANARY);
    expect(logs).not.toMatch(/Bearer |AWS4-HMAC|session=/);
  }, 300_000);

  it('does count a write when there is one (the check above can fail)', async () => {
    const before = await writes();
    const output = captureOutput();
    let status: number;
    try {
      status = (
        await send({
          category: 'valid',
          method: 'POST',
          path: '/v1/transfers',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${SECRET_CANARY}` },
          body: JSON.stringify({
            id: 'fz-valid',
            debitAccountId: 'acct-a',
            creditAccountId: 'acct-b',
            amount: '100',
            currency: 'EUR',
            reference: BODY_CANARY,
          }),
        })
      ).status;
    } finally {
      output.restore();
    }
    expect(status).toBe(202);
    expect(await writes()).toEqual({ items: before.items + 1, records: before.records + 1 });
    // The transfer id is logged (it names the transfer); the body and the token are not.
    expect(output.text()).toContain('"transferId":"fz-valid"');
    expect(output.text()).not.toContain(BODY_CANARY);
    expect(output.text()).not.toContain(SECRET_CANARY);
  });
});
