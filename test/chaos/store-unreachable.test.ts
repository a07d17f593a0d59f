import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildIngestApp, type IngestApp } from '../../functions/ingest-api/app.js';
import type { AppLog } from '../../functions/ingest-api/logging.js';
import { loadConfig } from '../../shared/config.js';

/**
 * BUG (fails until fixed): when DynamoDB cannot be reached (connection refused or reset, after the
 * SDK's own retries) the read routes and POST /v1/accounts answer 500 internal_error, without
 * Retry-After, and log an "unexpected error"; POST /v1/transfers answers 503 for the same failure.
 *
 * Cause: functions/ingest-api/errors.ts, toApiError() maps to 503 only the errors named in
 * UNAVAILABLE_ERROR_NAMES (ThrottlingException, TimeoutError...). The SDK surfaces a network
 * failure as a plain Error (name "Error") with `code` ECONNREFUSED / ECONNRESET / EPIPE /
 * ETIMEDOUT and `$metadata`, so it falls through to the 500 branch. (POST /v1/transfers is spared
 * only because IngestService.record() turns any store error into "unrecorded".)
 */
let closedPort: number;
let server: Server;
let app: IngestApp;
const unexpected: unknown[] = [];

beforeAll(async () => {
  // A port that refuses connections: listen, note it, close.
  server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closedPort = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  const endpoint = `http://127.0.0.1:${closedPort}`;
  const log: AppLog = { access: () => {}, unexpected: (error) => unexpected.push(error) };
  app = buildIngestApp(
    loadConfig({
      LEDGER_TABLE_NAME: 'unreachable',
      TRANSFER_STREAM_NAME: 'unreachable',
      AWS_REGION: 'us-east-1',
      AWS_ENDPOINT_URL_DYNAMODB: endpoint,
      AWS_ENDPOINT_URL_KINESIS: endpoint,
    }),
    { log },
  );
});
afterAll(() => undefined);

describe('BUG: the store cannot be reached', () => {
  it.each([
    ['GET', '/v1/transfers/t-1', undefined],
    ['GET', '/v1/accounts/a-1', undefined],
    ['GET', '/v1/accounts/a-1/transfers', undefined],
    ['POST', '/v1/accounts', { id: 'a-1', currency: 'EUR' }],
    [
      'POST',
      '/v1/transfers',
      { id: 't-1', debitAccountId: 'a', creditAccountId: 'b', amount: '1', currency: 'EUR' },
    ],
  ])(
    '%s %s answers 503 with Retry-After, like any other brief unavailability',
    async (method, path, body) => {
      const res = await app.request(path, {
        method,
        ...(body === undefined
          ? {}
          : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
      });
      expect({ status: res.status, retryAfter: res.headers.get('retry-after') }).toEqual({
        status: 503,
        retryAfter: '1',
      });
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('service_unavailable');
    },
  );
});
