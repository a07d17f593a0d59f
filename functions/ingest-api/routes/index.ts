import type { IngestService } from '../../../shared/services/ingest-service.js';
import { registerAccountRoutes } from './accounts.js';
import { registerBatchRoute } from './batch.js';
import { registerHealthRoute } from './health.js';
import type { RouteRegistrar } from './registrar.js';
import { registerTransferActionRoutes } from './transfer-actions.js';
import { registerTransferRoutes } from './transfers.js';

/**
 * Every route of the API, in the order the app matches them and the OpenAPI document lists them.
 * The app registers them with their handlers (app.ts); the document only reads their definitions
 * (openapi.ts), so `service` is never called there.
 */
export function registerRoutes(routes: RouteRegistrar, service: IngestService): void {
  registerHealthRoute(routes);
  registerAccountRoutes(routes, service);
  registerTransferRoutes(routes, service);
  registerTransferActionRoutes(routes, service);
  registerBatchRoute(routes, service);
}
