import { createRoute } from '@hono/zod-openapi';
import type { IngestApp } from '../env.js';
import { HealthView } from '../schemas.js';
import { errorResponses, jsonResponse } from './responses.js';
import { documentSecuritySchemes, PUBLIC } from './security.js';

const health = createRoute({
  method: 'get',
  path: '/health',
  tags: ['operations'],
  operationId: 'health',
  summary: 'Liveness: the function runs (no dependency is called)',
  description: 'The only route without authentication: it reads nothing and has its own low throttle.',
  security: PUBLIC,
  responses: { 200: jsonResponse('Alive', HealthView), ...errorResponses() },
});

/** Registered first: it also documents the security schemes every other route refers to. */
export function registerHealthRoute(app: IngestApp): void {
  documentSecuritySchemes(app);
  app.openapi(health, (c) => c.json({ status: 'ok' as const }, 200));
}
