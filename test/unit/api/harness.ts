import { expect } from 'vitest';
import { createApp, type IngestApp } from '../../../functions/ingest-api/app.js';
import type { AccessLine, AppLog } from '../../../functions/ingest-api/logging.js';
import { IngestService } from '../../../shared/services/ingest-service.js';
import { InMemoryLedger } from '../../helpers/in-memory-ledger.js';

export const REGION = 'eu-west-1';
const START = Date.parse('2025-03-01T09:00:00.000Z');

/** Everything a route test needs: the app over an in-memory ledger, a fake clock and a captured log. */
export interface TestApi {
  readonly app: IngestApp;
  readonly ledger: InMemoryLedger;
  readonly access: AccessLine[];
  readonly unexpected: unknown[];
  post(path: string, body: unknown, headers?: Record<string, string>): Promise<Response>;
  /** POST with the body text exactly as given (for literals JSON.stringify cannot write). */
  postRaw(path: string, text: string, headers?: Record<string, string>): Promise<Response>;
  /** POST with no body at all (capture and void accept that). */
  postEmpty(path: string, headers?: Record<string, string>): Promise<Response>;
  patch(path: string, body: unknown, headers?: Record<string, string>): Promise<Response>;
  get(path: string): Promise<Response>;
  /** Moves the fake clock (the consumer's and the service's) forward. */
  advance(ms: number): void;
}

/**
 * Builds the API over a fresh in-memory ledger. The service's clock is fake: `sleep` advances it,
 * so waiting for an account that never opens ends at once.
 */
export function createTestApi(
  service?: (ledger: InMemoryLedger, deps: ServiceClock) => IngestService,
): TestApi {
  let nowMs = START;
  const clock: ServiceClock = {
    now: () => new Date(nowMs),
    sleep: async (ms) => {
      nowMs += ms;
    },
  };
  const ledger = new InMemoryLedger({ region: REGION, now: clock.now });
  const access: AccessLine[] = [];
  const unexpected: unknown[] = [];
  const log: AppLog = { access: (line) => access.push(line), unexpected: (error) => unexpected.push(error) };
  const svc =
    service?.(ledger, clock) ??
    new IngestService({ reader: ledger, recorder: ledger, queue: ledger, region: REGION, ...clock });
  const app = createApp(svc, { log });
  const postRaw = async (path: string, text: string, headers: Record<string, string> = {}) =>
    app.request(path, {
      method: 'POST',
      body: text,
      headers: { 'content-type': 'application/json', ...headers },
    });
  return {
    app,
    ledger,
    access,
    unexpected,
    postRaw,
    post: (path, body, headers) => postRaw(path, JSON.stringify(body), headers),
    postEmpty: async (path, headers = {}) => app.request(path, { method: 'POST', headers }),
    patch: async (path, body, headers = {}) =>
      app.request(path, {
        method: 'PATCH',
        body: JSON.stringify(body),
        headers: { 'content-type': 'application/json', ...headers },
      }),
    get: async (path) => app.request(path),
    advance: (ms) => {
      nowMs += ms;
    },
  };
}

export interface ServiceClock {
  readonly now: () => Date;
  readonly sleep: (ms: number) => Promise<void>;
}

/** A valid transfer body; override any field. */
export function transferBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: 'tx-1',
    debitAccountId: 'acct-alice',
    creditAccountId: 'acct-bob',
    amount: '1250',
    currency: 'EUR',
    ...overrides,
  };
}

/** Opens two EUR accounts directly in the ledger, alice with `aliceOverdraft` minor units of overdraft. */
export function seedAccounts(ledger: InMemoryLedger, aliceOverdraft = 100_000n): void {
  ledger.openAccount({ id: 'acct-alice', currency: 'EUR', overdraftLimit: aliceOverdraft });
  ledger.openAccount({ id: 'acct-bob', currency: 'EUR', overdraftLimit: 0n });
}

export interface ErrorJson {
  error: { code: string; message: string; details?: { path: string; message: string }[] };
}

export async function errorOf(res: Response): Promise<ErrorJson['error']> {
  const body = (await res.json()) as ErrorJson;
  return body.error;
}

export type JsonObject = Record<string, unknown>;

/** GET /v1/transfers/{id}, expected to exist. */
export async function transferOf(api: TestApi, id: string): Promise<JsonObject> {
  const res = await api.get(`/v1/transfers/${id}`);
  expect(res.status).toBe(200);
  return (await res.json()) as JsonObject;
}

/** GET /v1/accounts/{id}, expected to exist. */
export async function accountOf(api: TestApi, id: string): Promise<JsonObject> {
  const res = await api.get(`/v1/accounts/${id}`);
  expect(res.status).toBe(200);
  return (await res.json()) as JsonObject;
}
