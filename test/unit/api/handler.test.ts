import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { httpApiEvent, lambdaContext } from './lambda-event.js';

/**
 * The Lambda entry, wired to the real adapters. Only requests that never reach AWS are sent (health,
 * a validation failure, an unknown route); the endpoint points at a closed port to be sure.
 */
describe('ingest Lambda handler (API Gateway HTTP API v2)', () => {
  const lines: string[] = [];
  let handler: typeof import('../../../functions/ingest-api/handler.js').handler;

  beforeAll(async () => {
    vi.stubEnv('LEDGER_TABLE_NAME', 'ledger');
    vi.stubEnv('TRANSFER_STREAM_NAME', 'transfers');
    vi.stubEnv('AWS_REGION', 'eu-west-1');
    vi.stubEnv('AWS_ENDPOINT_URL', 'http://127.0.0.1:9');
    vi.stubEnv('POWERTOOLS_SERVICE_NAME', 'ingest-api-test');
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });
    ({ handler } = await import('../../../functions/ingest-api/handler.js'));
  });

  afterAll(() => {
    vi.restoreAllMocks();
    vi.unstubAllEnvs();
  });

  function accessLines(): Record<string, unknown>[] {
    return lines
      .flatMap((chunk) => chunk.split('\n'))
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((entry) => entry.message === 'request');
  }

  it('answers GET /health and writes one structured access line', async () => {
    const result = await handler(httpApiEvent('GET', '/health'), lambdaContext);
    expect(result.statusCode).toBe(200);
    expect(JSON.parse(result.body)).toEqual({ status: 'ok' });
    expect(accessLines().at(-1)).toMatchObject({
      level: 'INFO',
      service: 'ingest-api-test',
      method: 'GET',
      route: '/health',
      status: 200,
      latencyMs: expect.any(Number),
      requestId: 'req-123',
    });
  });

  it('answers a 422 without logging the body or the Authorization header', async () => {
    const body = JSON.stringify({ id: 'tx-secret-marker', amount: '1.5' });
    const result = await handler(
      httpApiEvent('POST', '/v1/transfers', {
        body,
        headers: { 'content-type': 'application/json', authorization: 'Bearer token-xyz' },
      }),
      lambdaContext,
    );
    expect(result.statusCode).toBe(422);
    expect(JSON.parse(result.body)).toMatchObject({ error: { code: 'validation_failed' } });
    expect(accessLines().at(-1)).toMatchObject({ method: 'POST', route: '/v1/transfers', status: 422 });
    const everything = lines.join('');
    expect(everything).not.toContain('token-xyz');
    expect(everything).not.toContain('tx-secret-marker');
  });

  it('answers 405 with Allow through the Lambda result', async () => {
    const result = await handler(httpApiEvent('DELETE', '/v1/transfers'), lambdaContext);
    expect(result.statusCode).toBe(405);
    expect(result.headers?.allow).toBe('POST');
  });
});
