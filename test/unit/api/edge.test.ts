import { HTTPException } from 'hono/http-exception';
import { describe, expect, it } from 'vitest';
import { TransientLedgerError } from '../../../shared/domain/errors.js';
import { IngestService } from '../../../shared/services/ingest-service.js';
import type { InMemoryLedger } from '../../helpers/in-memory-ledger.js';
import { createTestApi, errorOf, REGION, type ServiceClock, transferBody } from './harness.js';

const KIB = 1024;

/** A JSON body of exactly `bytes` bytes (a transfer whose reference pads it out). */
function bodyOfSize(bytes: number): string {
  const base = JSON.stringify(transferBody({ reference: '' }));
  return base.replace('"reference":""', `"reference":"${'r'.repeat(bytes - base.length)}"`);
}

describe('GET /health', () => {
  it('answers 200 {status: ok}', async () => {
    const api = createTestApi();
    const res = await api.get('/health');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
  });
});

describe('400 malformed_json', () => {
  it.each([
    ['truncated JSON', '{"id":'],
    ['an empty body', ''],
    ['a trailing comma', '{"id":"a",}'],
    ['single quotes', "{'id':'a'}"],
    ['NaN', '{"amount": NaN}'],
  ])('for %s', async (_name, text) => {
    const api = createTestApi();
    const res = await api.postRaw('/v1/transfers', text);
    expect(res.status).toBe(400);
    expect((await errorOf(res)).code).toBe('malformed_json');
    expect(api.ledger.recordCalls).toBe(0);
  });

  it('for bytes that are not UTF-8', async () => {
    const api = createTestApi();
    const bytes = new Uint8Array([
      ...new TextEncoder().encode('{"id":"'),
      0xff,
      0xfe,
      ...new TextEncoder().encode('"}'),
    ]);
    const res = await api.app.request('/v1/transfers', {
      method: 'POST',
      body: bytes,
      headers: { 'content-type': 'application/json' },
    });
    expect(res.status).toBe(400);
    expect((await errorOf(res)).code).toBe('malformed_json');
  });

  it('on the batch and accounts routes too', async () => {
    const api = createTestApi();
    for (const path of ['/v1/transfers/batch', '/v1/accounts']) {
      const res = await api.postRaw(path, '{');
      expect(res.status).toBe(400);
      expect((await errorOf(res)).code).toBe('malformed_json');
    }
  });
});

describe('413 payload_too_large', () => {
  it('refuses a body over 256 KiB on POST /v1/transfers, and lets one of exactly 256 KiB through', async () => {
    const api = createTestApi();
    const over = await api.postRaw('/v1/transfers', bodyOfSize(256 * KIB + 1));
    expect(over.status).toBe(413);
    expect((await errorOf(over)).code).toBe('payload_too_large');
    const at = await api.postRaw('/v1/transfers', bodyOfSize(256 * KIB));
    expect(at.status).toBe(422); // through the limit, then the 128-character reference rule
    expect(api.ledger.recordCalls).toBe(0);
  });

  it('refuses a body over 256 KiB on POST /v1/accounts', async () => {
    const api = createTestApi();
    const res = await api.postRaw(
      '/v1/accounts',
      JSON.stringify({ id: 'a', currency: 'EUR', x: 'y'.repeat(256 * KIB) }),
    );
    expect(res.status).toBe(413);
  });

  it('refuses a batch over 4 MiB', async () => {
    const api = createTestApi();
    const res = await api.postRaw(
      '/v1/transfers/batch',
      JSON.stringify({ transfers: ['x'.repeat(4 * KIB * KIB)] }),
    );
    expect(res.status).toBe(413);
    expect((await errorOf(res)).code).toBe('payload_too_large');
    expect(api.ledger.recordCalls).toBe(0);
  });

  it('refuses on a declared Content-Length without reading the body', async () => {
    const api = createTestApi();
    const res = await api.app.request('/v1/transfers', {
      method: 'POST',
      body: '{}',
      headers: { 'content-type': 'application/json', 'content-length': String(256 * KIB + 1) },
    });
    expect(res.status).toBe(413);
  });
});

describe('415 unsupported_media_type', () => {
  it.each([
    ['no content type', undefined],
    ['text/plain', 'text/plain'],
    ['form data', 'application/x-www-form-urlencoded'],
    ['a JSON look-alike', 'application/jsonx'],
  ])('for %s', async (_name, contentType) => {
    const api = createTestApi();
    const res = await api.app.request('/v1/transfers', {
      method: 'POST',
      body: JSON.stringify(transferBody()),
      headers: contentType === undefined ? {} : { 'content-type': contentType },
    });
    expect(res.status).toBe(415);
    expect((await errorOf(res)).code).toBe('unsupported_media_type');
    expect(api.ledger.recordCalls).toBe(0);
  });

  it('accepts application/json with a charset', async () => {
    const api = createTestApi();
    const res = await api.postRaw('/v1/transfers', JSON.stringify(transferBody()), {
      'content-type': 'application/json; charset=utf-8',
    });
    expect(res.status).toBe(202);
  });

  it('applies to the batch and accounts routes too', async () => {
    const api = createTestApi();
    for (const path of ['/v1/transfers/batch', '/v1/accounts']) {
      const res = await api.app.request(path, { method: 'POST', body: '{}' });
      expect(res.status).toBe(415);
    }
  });
});

describe('404 and 405', () => {
  it.each(['/', '/v2/transfers', '/v1/accounts/a/b/c', '/v1/transfers/', '/health/x'])(
    'answers 404 not_found for the unknown route %s',
    async (path) => {
      const api = createTestApi();
      const res = await api.get(path);
      expect(res.status).toBe(404);
      expect((await errorOf(res)).code).toBe('not_found');
    },
  );

  it.each([
    ['GET', '/v1/transfers', 'POST'],
    ['GET', '/v1/accounts', 'POST'],
    ['DELETE', '/v1/accounts/acct-1', 'GET, HEAD, PATCH'],
    ['POST', '/v1/accounts/acct-1/transfers', 'GET, HEAD'],
    ['PATCH', '/v1/transfers/tx-1', 'GET, HEAD'],
    ['POST', '/health', 'GET, HEAD'],
    ['PUT', '/v1/transfers/batch', 'GET, HEAD, POST'],
  ])('answers 405 for %s %s with Allow: %s', async (method, path, allow) => {
    const api = createTestApi();
    const res = await api.app.request(path, { method });
    expect(res.status).toBe(405);
    expect(res.headers.get('Allow')).toBe(allow);
    expect((await errorOf(res)).code).toBe('method_not_allowed');
  });

  it('serves HEAD for GET routes', async () => {
    const api = createTestApi();
    const res = await api.app.request('/health', { method: 'HEAD' });
    expect(res.status).toBe(200);
  });
});

describe('onError', () => {
  it("renders hono's HTTPException in the error shape with its status", async () => {
    const api = createTestApi();
    api.app.get('/teapot', () => {
      throw new HTTPException(429, { message: 'slow down' });
    });
    const res = await api.get('/teapot');
    expect(res.status).toBe(429);
    expect(await res.json()).toEqual({ error: { code: 'bad_request', message: 'slow down' } });
  });
});

describe('store failures', () => {
  function apiWithReader(fail: () => never) {
    return createTestApi((ledger: InMemoryLedger, clock: ServiceClock) => {
      const reader = {
        getAccount: async () => fail(),
        getTransfer: async () => fail(),
        listStatement: async () => fail(),
      };
      return new IngestService({ reader, recorder: ledger, queue: ledger, region: REGION, ...clock });
    });
  }

  it('answers 503 with Retry-After for a transient ledger error', async () => {
    const api = apiWithReader(() => {
      throw new TransientLedgerError('throttled');
    });
    const res = await api.get('/v1/accounts/acct-1');
    expect(res.status).toBe(503);
    expect(res.headers.get('Retry-After')).toBe('1');
    expect(api.unexpected).toHaveLength(0);
  });

  it('answers 503 for SDK throttling', async () => {
    const api = apiWithReader(() => {
      throw Object.assign(new Error('slow down'), { name: 'ProvisionedThroughputExceededException' });
    });
    expect((await api.get('/v1/transfers/tx-1')).status).toBe(503);
  });

  it('answers 500 internal_error for anything unexpected, logs it, and never echoes it', async () => {
    const api = apiWithReader(() => {
      throw new Error('socket hang up at 10.0.0.7');
    });
    const res = await api.get('/v1/accounts/acct-1');
    expect(res.status).toBe(500);
    const text = await res.text();
    expect(JSON.parse(text)).toEqual({ error: { code: 'internal_error', message: 'internal error' } });
    expect(text).not.toContain('10.0.0.7');
    expect(api.unexpected).toHaveLength(1);
  });
});

describe('access log', () => {
  it('writes one line per request with method, route pattern, status, latency and transfer id', async () => {
    const api = createTestApi();
    await api.post('/v1/transfers', transferBody(), { authorization: 'Bearer secret-token' });
    await api.get('/v1/transfers/tx-1');
    await api.get('/nope');
    await api.post('/v1/transfers/batch', { transfers: [transferBody({ id: 'b' })] });
    expect(api.access.map(({ latencyMs: _, ...line }) => line)).toEqual([
      { method: 'POST', route: '/v1/transfers', status: 202, transferId: 'tx-1' },
      { method: 'GET', route: '/v1/transfers/:id', status: 200, transferId: 'tx-1' },
      { method: 'GET', route: '-', status: 404 },
      { method: 'POST', route: '/v1/transfers/batch', status: 202, transferCount: 1 },
    ]);
    expect(api.access.every((l) => l.latencyMs >= 0)).toBe(true);
    expect(JSON.stringify(api.access)).not.toContain('secret-token');
  });

  it('logs a rejected request with its status', async () => {
    const api = createTestApi();
    await api.postRaw('/v1/transfers', '{');
    expect(api.access).toMatchObject([{ method: 'POST', route: '/v1/transfers', status: 400 }]);
  });
});
