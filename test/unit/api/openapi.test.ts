import { readFile } from 'node:fs/promises';
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { OPENAPI_PATH } from '../../../functions/ingest-api/app.js';
import {
  OPENAPI_JSON_PATH,
  OPENAPI_MODULE_PATH,
  openApiDocument,
  renderOpenApiJson,
  renderOpenApiModule,
} from '../../../functions/ingest-api/openapi.js';
import { OPENAPI_JSON } from '../../../functions/ingest-api/openapi-document.js';
import { createTestApi } from './harness.js';

type Json = Record<string, unknown>;

async function fetchDocument(): Promise<Json> {
  const res = await createTestApi().get('/openapi.json');
  expect(res.status).toBe(200);
  return (await res.json()) as Json;
}

/** Follows a local $ref ("#/components/schemas/X") or returns the schema itself. */
function resolve(doc: Json, schema: unknown): Json {
  const ref = (schema as { $ref?: string }).$ref;
  if (ref === undefined) return schema as Json;
  const name = ref.replace('#/components/schemas/', '');
  return ((doc.components as Json).schemas as Json)[name] as Json;
}

function operation(doc: Json, path: string, method: string): Json {
  const op = ((doc.paths as Json)[path] as Json | undefined)?.[method];
  expect(op, `${method.toUpperCase()} ${path}`).toBeDefined();
  return op as Json;
}

function requestSchema(doc: Json, path: string): Json {
  const body = operation(doc, path, 'post').requestBody as Json;
  return resolve(doc, ((body.content as Json)['application/json'] as Json).schema);
}

function responseSchema(doc: Json, path: string, method: string, status: string): Json {
  const response = (operation(doc, path, method).responses as Json)[status] as Json;
  return resolve(doc, ((response.content as Json)['application/json'] as Json).schema);
}

function property(doc: Json, schema: Json, name: string): Json {
  return resolve(doc, (schema.properties as Json)[name]);
}

const stringOrInteger = {
  anyOf: [expect.objectContaining({ type: 'string' }), expect.objectContaining({ type: 'integer' })],
};

describe('GET /openapi.json', () => {
  it('is an OpenAPI 3.1 document', async () => {
    const doc = await fetchDocument();
    expect(doc.openapi).toMatch(/^3\.1\.\d+$/);
    expect(doc.info).toMatchObject({ title: expect.any(String), version: '1.1.0' });
  });

  it('has every route with its methods', async () => {
    const doc = await fetchDocument();
    const methods = Object.fromEntries(
      Object.entries(doc.paths as Json).map(([path, item]) => [path, Object.keys(item as Json).sort()]),
    );
    expect(methods).toEqual({
      '/health': ['get'],
      '/v1/accounts': ['post'],
      '/v1/accounts/{id}': ['get', 'patch'],
      '/v1/accounts/{id}/transfers': ['get'],
      '/v1/transfers': ['post'],
      '/v1/transfers/{id}': ['get'],
      '/v1/transfers/{id}/capture': ['post'],
      '/v1/transfers/{id}/void': ['post'],
      '/v1/transfers/{id}/reverse': ['post'],
      '/v1/transfers/batch': ['post'],
    });
  });

  it('types request money as string or integer and response money as string', async () => {
    const doc = await fetchDocument();
    expect(property(doc, requestSchema(doc, '/v1/transfers'), 'amount')).toMatchObject(stringOrInteger);
    expect(property(doc, requestSchema(doc, '/v1/accounts'), 'overdraftLimit')).toMatchObject(
      stringOrInteger,
    );

    const account = responseSchema(doc, '/v1/accounts/{id}', 'get', '200');
    for (const field of ['balance', 'overdraftLimit'])
      expect(property(doc, account, field).type).toBe('string');
    expect(property(doc, account, 'version').type).toBe('integer');
    const transfer = responseSchema(doc, '/v1/transfers/{id}', 'get', '200');
    expect(property(doc, transfer, 'amount').type).toBe('string');
    const page = responseSchema(doc, '/v1/accounts/{id}/transfers', 'get', '200');
    const entry = resolve(doc, property(doc, page, 'data').items);
    for (const field of ['amount', 'balanceAfter']) expect(property(doc, entry, field).type).toBe('string');
  });

  it('documents the batch body with the real item schema, bounded to 1..500', async () => {
    const doc = await fetchDocument();
    const batch = requestSchema(doc, '/v1/transfers/batch');
    const transfers = property(doc, batch, 'transfers');
    expect(transfers).toMatchObject({ type: 'array', minItems: 1, maxItems: 500 });
    expect(resolve(doc, transfers.items)).toEqual(requestSchema(doc, '/v1/transfers'));
    expect(Object.keys(operation(doc, '/v1/transfers/batch', 'post').responses as Json)).toContain('202');
  });

  it('makes request bodies strict and bounds their strings', async () => {
    const doc = await fetchDocument();
    const transfer = requestSchema(doc, '/v1/transfers');
    expect(transfer.additionalProperties).toBe(false);
    expect(property(doc, transfer, 'id')).toMatchObject({
      type: 'string',
      pattern: '^[A-Za-z0-9._:-]{1,64}$',
    });
    expect(property(doc, transfer, 'reference')).toMatchObject({ maxLength: 128 });
    expect(property(doc, transfer, 'metadata')).toMatchObject({ maxProperties: 16 });
  });

  it('references the one Error schema from every error response', async () => {
    const doc = await fetchDocument();
    let errorResponses = 0;
    for (const [path, item] of Object.entries(doc.paths as Json)) {
      for (const [method, op] of Object.entries(item as Json)) {
        for (const [status, response] of Object.entries((op as Json).responses as Json)) {
          if (Number(status) < 400) continue;
          const schema = (((response as Json).content as Json)['application/json'] as Json).schema;
          expect(schema, `${method} ${path} ${status}`).toEqual({ $ref: '#/components/schemas/Error' });
          errorResponses++;
        }
      }
    }
    expect(errorResponses).toBeGreaterThan(15);
    const error = resolve(doc, { $ref: '#/components/schemas/Error' });
    expect(error.required).toEqual(['error']);
  });

  it('documents the statement query and the Idempotency-Key header', async () => {
    const doc = await fetchDocument();
    const statement = operation(doc, '/v1/accounts/{id}/transfers', 'get').parameters as Json[];
    expect(statement).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: 'id', in: 'path', required: true }),
        expect.objectContaining({
          name: 'limit',
          in: 'query',
          schema: expect.objectContaining({ type: 'integer', minimum: 1, maximum: 100 }),
        }),
        expect.objectContaining({ name: 'cursor', in: 'query' }),
      ]),
    );
    const submit = operation(doc, '/v1/transfers', 'post').parameters as Json[];
    expect(submit).toEqual([
      expect.objectContaining({ name: 'Idempotency-Key', in: 'header', required: false }),
      expect.objectContaining({ name: 'Prefer', in: 'header', required: false }),
    ]);
  });

  it('documents holds, reversals, groups and history on the Transfer view', async () => {
    const doc = await fetchDocument();
    const transfer = responseSchema(doc, '/v1/transfers/{id}', 'get', '200');
    expect(property(doc, transfer, 'status').enum).toEqual([
      'ACCEPTED',
      'HELD',
      'POSTED',
      'REJECTED',
      'VOIDED',
      'EXPIRED',
      'DEBITED',
      'RETURNED',
    ]);
    expect(property(doc, transfer, 'reason').enum).toEqual(
      expect.arrayContaining([
        'account_frozen',
        'account_closed',
        'linked_transfer_failed',
        'transfer_not_reversible',
        'cross_region_group',
      ]),
    );
    for (const field of [
      'holdExpiresAt',
      'heldAt',
      'releasedAt',
      'reversedBy',
      'reversalOf',
      'groupId',
      'creditRegion',
      'debitedAt',
      'returnedAt',
    ]) {
      expect(property(doc, transfer, field).type, field).toBe('string');
    }
    expect(property(doc, transfer, 'capturedAmount').type).toBe('string');
    expect(property(doc, transfer, 'hold').type).toBe('boolean');
    expect(transfer.required).toEqual(expect.arrayContaining(['hold', 'history']));
    const action = resolve(doc, property(doc, transfer, 'history').items);
    expect(Object.keys(action.properties as Json)).toEqual([
      'requestId',
      'action',
      'at',
      'outcome',
      'reason',
    ]);
  });

  it('documents the hold fields of a transfer request with their default and bound', async () => {
    const doc = await fetchDocument();
    const request = requestSchema(doc, '/v1/transfers');
    expect(property(doc, request, 'hold')).toMatchObject({ type: 'boolean', default: false });
    expect(property(doc, request, 'holdTimeoutSeconds')).toMatchObject({
      type: 'integer',
      minimum: 1,
      maximum: 2592000,
      default: 604800,
    });
  });

  it('documents held and available balances, status, and the statement line shape', async () => {
    const doc = await fetchDocument();
    const account = responseSchema(doc, '/v1/accounts/{id}', 'get', '200');
    for (const field of ['heldAmount', 'availableBalance'])
      expect(property(doc, account, field).type).toBe('string');
    expect(property(doc, account, 'status').enum).toEqual(['OPEN', 'FROZEN', 'CLOSED']);
    const page = responseSchema(doc, '/v1/accounts/{id}/transfers', 'get', '200');
    const entry = resolve(doc, property(doc, page, 'data').items);
    expect(property(doc, entry, 'type').enum).toEqual([
      'DEBIT',
      'CREDIT',
      'HOLD',
      'CAPTURE',
      'RELEASE',
      'RETURN',
    ]);
    expect(property(doc, requestSchema(doc, '/v1/accounts'), 'homeRegion').type).toBe('string');
    for (const field of ['heldAmountAfter', 'availableBalanceAfter']) {
      expect(property(doc, entry, field).type).toBe('string');
    }
    expect(entry.required).not.toContain('direction');
    expect(entry.required).not.toContain('counterpartyAccountId');
  });

  it('documents capture and void with an optional body, reverse with a required one', async () => {
    const doc = await fetchDocument();
    for (const path of ['/v1/transfers/{id}/capture', '/v1/transfers/{id}/void']) {
      const op = operation(doc, path, 'post');
      expect((op.requestBody as Json).required).toBe(false);
      expect(Object.keys(op.responses as Json).sort()).toEqual(
        ['200', '202', '400', '404', '409', '413', '415', '422', '500', '503'].sort(),
      );
    }
    expect(property(doc, requestSchema(doc, '/v1/transfers/{id}/capture'), 'amount')).toMatchObject(
      stringOrInteger,
    );
    const reverse = operation(doc, '/v1/transfers/{id}/reverse', 'post');
    expect((reverse.requestBody as Json).required).toBe(true);
    expect(requestSchema(doc, '/v1/transfers/{id}/reverse').required).toEqual(['id']);
    const conflict = ((reverse.responses as Json)['409'] as Json).description;
    expect(conflict).toContain('already_reversed');
  });

  it('documents Prefer on the routes that wait, and Preference-Applied on their answers', async () => {
    const doc = await fetchDocument();
    for (const path of [
      '/v1/transfers',
      '/v1/transfers/{id}/capture',
      '/v1/transfers/{id}/void',
      '/v1/transfers/{id}/reverse',
    ]) {
      const op = operation(doc, path, 'post');
      expect(op.parameters, path).toEqual(
        expect.arrayContaining([expect.objectContaining({ name: 'Prefer', in: 'header', required: false })]),
      );
      for (const status of ['200', '202']) {
        const headers = ((op.responses as Json)[status] as Json).headers as Json;
        expect(headers['Preference-Applied'], `${path} ${status}`).toMatchObject({ required: false });
      }
    }
  });

  it('documents PATCH /v1/accounts/{id} as strict, non-empty, in JSON or merge-patch JSON', async () => {
    const doc = await fetchDocument();
    const op = operation(doc, '/v1/accounts/{id}', 'patch');
    const content = (op.requestBody as Json).content as Json;
    expect(Object.keys(content)).toEqual(['application/json', 'application/merge-patch+json']);
    const body = resolve(doc, (content['application/json'] as Json).schema);
    expect(body).toMatchObject({ additionalProperties: false, minProperties: 1 });
    expect(property(doc, body, 'overdraftLimit')).toMatchObject(stringOrInteger);
    expect(Object.keys(op.responses as Json)).toEqual(expect.arrayContaining(['200', '202', '409']));
  });

  it('documents the atomic flag of the batch and the group id of its answer', async () => {
    const doc = await fetchDocument();
    expect(property(doc, requestSchema(doc, '/v1/transfers/batch'), 'atomic')).toMatchObject({
      type: 'boolean',
      default: false,
    });
    const response = responseSchema(doc, '/v1/transfers/batch', 'post', '202');
    expect(property(doc, response, 'groupId').type).toBe('string');
  });

  it('is the document built from the route definitions, answered as OpenAPIHono.doc31 answered it', async () => {
    const res = await createTestApi().get(OPENAPI_PATH);
    const text = await res.text();
    expect(text).toBe(JSON.stringify(openApiDocument()));
    expect(JSON.parse(text)).toEqual(openApiDocument());
    // As @hono/zod-openapi's doc31 served the document it generated at runtime (`c.json(document)`):
    // same status and headers.
    const reference = await new Hono()
      .get(OPENAPI_PATH, (c) => c.json(openApiDocument()))
      .request(OPENAPI_PATH);
    expect(res.status).toBe(reference.status);
    expect([...res.headers]).toEqual([...reference.headers]);
  });
});

describe('the generated document files (run `npm run openapi` after changing a route)', () => {
  const onDisk = (path: string) => readFile(new URL(`../../../${path}`, import.meta.url), 'utf8');

  it(`${OPENAPI_JSON_PATH} is up to date`, async () => {
    expect(await onDisk(OPENAPI_JSON_PATH)).toBe(renderOpenApiJson());
  });

  it(`${OPENAPI_MODULE_PATH} is up to date, and holds the document as its text`, async () => {
    expect(await onDisk(OPENAPI_MODULE_PATH)).toBe(renderOpenApiModule());
    expect(JSON.parse(OPENAPI_JSON)).toEqual(openApiDocument());
  });
});
