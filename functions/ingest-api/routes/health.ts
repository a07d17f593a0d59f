import { HealthView } from '../schemas.js';
import { defineRoute, type RouteRegistrar } from './registrar.js';
import { errorResponses, jsonResponse } from './responses.js';
import { PUBLIC } from './security.js';

const health = defineRoute({
  method: 'get',
  path: '/health',
  tags: ['operations'],
  operationId: 'health',
  summary: 'Liveness: the function runs (no dependency is called)',
  description: 'The only route without authentication: it reads nothing and has its own low throttle.',
  security: PUBLIC,
  responses: { 200: jsonResponse('Alive', HealthView), ...errorResponses() },
});

export function registerHealthRoute(routes: RouteRegistrar): void {
  routes.openapi(health, (c) => c.json({ status: 'ok' as const }, 200));
}
