import { describe, expect, it } from 'vitest';

describe('module load order', () => {
  it('builds the app and its document when the domain schemas were created before zod was extended', async () => {
    // No static import of the app here: the domain module is evaluated first, as a local runner or
    // another entry point might do, and only then the app (which brings @hono/zod-openapi).
    const { Identifier } = await import('../../../shared/domain/identifiers.js');
    expect('openapi' in Identifier).toBe(false);
    const { createTestApi } = await import('./harness.js');
    const api = createTestApi();
    expect((await api.get('/openapi.json')).status).toBe(200);
    expect((await api.post('/v1/transfers', { id: 'x' })).status).toBe(422);
  });
});
