import { describe, expect, it } from 'vitest';
import * as z from 'zod';

/**
 * The app's schemas document themselves with zod's own metadata, so nothing depends on
 * @hono/zod-openapi having extended zod first (it once had to, and schemas created before that
 * lacked `.openapi`); the document is now generated without it. Each test file runs in a fresh
 * process, so zod here is untouched unless something this file loads extends it.
 */
describe('module load order', () => {
  it('builds and serves the app without ever loading @hono/zod-openapi', async () => {
    // No static import of the app: the domain module is evaluated first, as a local runner or
    // another entry point might do, and only then the app.
    const { Identifier } = await import('../../../shared/domain/identifiers.js');
    expect('openapi' in Identifier).toBe(false);
    const { createTestApi } = await import('./harness.js');
    const api = createTestApi();
    const doc = await api.get('/openapi.json');
    expect(doc.status).toBe(200);
    expect((await api.post('/v1/transfers', { id: 'x' })).status).toBe(422);
    // @hono/zod-openapi extends zod's prototype when it loads: the app's module graph never did.
    expect('openapi' in z.ZodType.prototype).toBe(false);
  });

  it('documents the same schemas when the document is built after the app (the build order)', async () => {
    const { createTestApi } = await import('./harness.js');
    const served = await (await createTestApi().get('/openapi.json')).json();
    const { openApiDocument } = await import('../../../functions/ingest-api/openapi.js');
    expect(openApiDocument()).toEqual(served);
    // The generator (zod's own toJSONSchema) reads the schemas' metadata: it extends nothing either.
    expect('openapi' in z.ZodType.prototype).toBe(false);
  });
});
