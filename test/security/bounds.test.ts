import { describe, expect, it } from 'vitest';
import { BATCH_BODY_BYTES_MAX, BODY_BYTES_MAX } from '../../functions/ingest-api/middleware.js';
import { CURSOR_LENGTH_MAX, TRANSFERS_PER_BATCH_MAX } from '../../functions/ingest-api/schemas.js';
import { createTestApi, errorOf, seedAccounts, transferBody } from '../unit/api/harness.js';

/**
 * Every route bounds what it reads: the body's size, every string, array and record in it, the
 * query and the path. Checked twice: in the OpenAPI document (each string, array and integer
 * carries its bound) and in behaviour (one past the bound is refused, the bound itself is not).
 */

type Json = Record<string, unknown>;

async function document(): Promise<Json> {
  return (await (await createTestApi().get('/openapi.json')).json()) as Json;
}

/** Every schema in the document with where it is, following properties, items, anyOf and parameters. */
function schemas(doc: Json): { where: string; schema: Json }[] {
  const found: { where: string; schema: Json }[] = [];
  const stack: { where: string; value: unknown }[] = [{ where: '#', value: doc }];
  for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
    const { where, value } = next;
    if (typeof value !== 'object' || value === null) continue;
    const object = value as Json;
    if (typeof object.type === 'string' || Array.isArray(object.type)) found.push({ where, schema: object });
    for (const [key, child] of Object.entries(object)) {
      if (key !== 'example' && key !== 'default') stack.push({ where: `${where}.${key}`, value: child });
    }
  }
  return found;
}

describe('the OpenAPI document bounds', () => {
  it('finds the schemas it checks (a walk that finds nothing proves nothing)', async () => {
    const found = schemas(await document());
    expect(found.filter((f) => f.schema.type === 'string').length).toBeGreaterThan(30);
    expect(found.some((f) => Array.isArray(f.schema.type))).toBe(true);
  });

  it('every string (length, enum or const), array (maxItems) and integer (minimum and maximum)', async () => {
    const unbounded: string[] = [];
    for (const { where, schema } of schemas(await document())) {
      const types = Array.isArray(schema.type) ? (schema.type as unknown[]) : [schema.type];
      const type = types.find((t) => t !== 'null');
      if (
        type === 'string' &&
        schema.maxLength === undefined &&
        schema.enum === undefined &&
        schema.const === undefined
      )
        unbounded.push(`${where} (string)`);
      if (type === 'array' && schema.maxItems === undefined) unbounded.push(`${where} (array)`);
      if (type === 'integer' && (schema.minimum === undefined || schema.maximum === undefined))
        unbounded.push(`${where} (integer)`);
      if (
        type === 'object' &&
        typeof schema.additionalProperties === 'object' &&
        schema.maxProperties === undefined
      )
        unbounded.push(`${where} (record)`);
    }
    expect(unbounded).toEqual([]);
  });
});

describe('every route refuses what is past its bounds', () => {
  const padTo = (bytes: number, make: (pad: string) => unknown): string => {
    const base = JSON.stringify(make(''));
    return JSON.stringify(make('x'.repeat(bytes - Buffer.byteLength(base))));
  };

  it.each([
    ['/v1/transfers', BODY_BYTES_MAX, (pad: string) => transferBody({ reference: pad })],
    [
      '/v1/accounts',
      BODY_BYTES_MAX,
      (pad: string) => ({ id: 'a', currency: 'EUR', metadata: { note: pad } }),
    ],
    [
      '/v1/transfers/batch',
      BATCH_BODY_BYTES_MAX,
      (pad: string) => ({ transfers: [transferBody({ reference: pad })] }),
    ],
  ])('POST %s: a body of its limit is read, one byte more is 413', async (path, limit, make) => {
    const api = createTestApi();
    const atLimit = padTo(limit, make);
    const over = padTo(limit + 1, make);
    expect(Buffer.byteLength(atLimit)).toBe(limit);
    expect((await api.postRaw(path, atLimit)).status).not.toBe(413);
    const res = await api.postRaw(path, over);
    expect(res.status).toBe(413);
    expect((await errorOf(res)).code).toBe('payload_too_large');
    expect(api.ledger.recordCalls).toBe(0);
  });

  it.each([
    ['id', { id: 'i'.repeat(65) }],
    ['debitAccountId', { debitAccountId: 'd'.repeat(65) }],
    ['reference', { reference: 'r'.repeat(129) }],
    ['metadata value', { metadata: { k: 'v'.repeat(257) } }],
    ['metadata key', { metadata: { ['k'.repeat(65)]: 'v' } }],
    ['metadata keys', { metadata: Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, 'v'])) }],
    ['amount digits', { amount: '1'.repeat(20) }],
  ])('POST /v1/transfers and the batch: %s one past its bound is 422', async (_name, override) => {
    const api = createTestApi();
    seedAccounts(api.ledger);
    expect((await api.post('/v1/transfers', transferBody(override))).status).toBe(422);
    const batch = await api.post('/v1/transfers/batch', { transfers: [transferBody(override)] });
    const results = ((await batch.json()) as { results: { httpStatus: number }[] }).results;
    expect(results.map((r) => r.httpStatus)).toEqual([422]);
    expect(api.ledger.recordCalls).toBe(0);
  });

  it('POST /v1/transfers/batch: 500 items are read, 501 are 422', async () => {
    const api = createTestApi();
    const items = (n: number) =>
      Array.from({ length: n }, (_, i) => transferBody({ id: `b-${i}`, amount: 0 }));
    expect(
      (await api.post('/v1/transfers/batch', { transfers: items(TRANSFERS_PER_BATCH_MAX) })).status,
    ).toBe(202);
    expect(
      (await api.post('/v1/transfers/batch', { transfers: items(TRANSFERS_PER_BATCH_MAX + 1) })).status,
    ).toBe(422);
    expect(api.ledger.recordCalls).toBe(0);
  });

  it.each([
    ['id', { id: 'a'.repeat(65) }],
    ['overdraftLimit digits', { overdraftLimit: '9'.repeat(20) }],
    ['metadata keys', { metadata: Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, 'v'])) }],
  ])('POST /v1/accounts: %s one past its bound is 422', async (_name, override) => {
    const api = createTestApi();
    const res = await api.post('/v1/accounts', { id: 'acct-x', currency: 'EUR', ...override });
    expect(res.status).toBe(422);
    expect(api.ledger.enqueued).toHaveLength(0);
  });

  it('GET routes: an id past 64 characters is 404, a limit past 100 or a cursor past its length is 422', async () => {
    const api = createTestApi();
    seedAccounts(api.ledger);
    const long = 'a'.repeat(65);
    expect((await api.get(`/v1/accounts/${long}`)).status).toBe(404);
    expect((await api.get(`/v1/transfers/${long}`)).status).toBe(404);
    expect((await api.get(`/v1/accounts/${long}/transfers`)).status).toBe(404);
    expect((await api.get('/v1/accounts/acct-alice/transfers?limit=101')).status).toBe(422);
    expect((await api.get('/v1/accounts/acct-alice/transfers?limit=100')).status).toBe(200);
    const cursor = 'c'.repeat(CURSOR_LENGTH_MAX + 1);
    expect((await api.get(`/v1/accounts/acct-alice/transfers?cursor=${cursor}`)).status).toBe(422);
  });
});
