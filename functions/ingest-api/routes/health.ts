import { createRoute } from '@hono/zod-openapi';
import type { IngestApp } from '../env.js';
import { HealthView } from '../schemas.js';
import { jsonResponse } from './responses.js';

const health = createRoute({
  method: 'get',
  path: '/health',
  tags: ['operations'],
  summary: 'Liveness: the function runs (no dependency is called)',
  responses: { 200: jsonResponse('Alive', HealthView) },
});

export function registerHealthRoute(app: IngestApp): void {
  app.openapi(health, (c) => c.json({ status: 'ok' as const }, 200));
}
