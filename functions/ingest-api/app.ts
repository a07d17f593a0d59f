import { Logger } from '@aws-lambda-powertools/logger';
import { OpenAPIHono } from '@hono/zod-openapi';
import { type RegionWiringOptions, wireRegions } from '../../shared/adapters/regions.js';
import type { RuntimeConfig } from '../../shared/config.js';
import { IngestService } from '../../shared/services/ingest-service.js';
import type { AppEnv, IngestApp } from './env.js';
import { errorHandler, validationHook } from './errors.js';
import { type AppLog, powertoolsLog, quietLog } from './logging.js';
import { accessLog, notFoundOrMethodNotAllowed } from './middleware.js';
import { registerAccountRoutes } from './routes/accounts.js';
import { registerBatchRoute } from './routes/batch.js';
import { registerHealthRoute } from './routes/health.js';
import { registerTransferActionRoutes } from './routes/transfer-actions.js';
import { registerTransferRoutes } from './routes/transfers.js';

export type { IngestApp } from './env.js';

export const OPENAPI_PATH = '/openapi.json';
/** Service name in log lines when POWERTOOLS_SERVICE_NAME is not set. */
export const DEFAULT_SERVICE_NAME = 'ingest-api';

/** The document's top level; paths and schemas come from the routes. */
export const OPENAPI_OBJECT_CONFIG = {
  openapi: '3.1.0',
  info: {
    title: 'Edge ledger ingest API',
    version: '1.1.0',
    description:
      'Public API v1. Money is an integer count of minor units: requests accept a decimal string of ' +
      '1-19 digits or a JSON integer up to 2^53-1; responses always carry decimal strings. Every error is ' +
      '`{"error": {"code", "message", "details"?}}`. A path id that is not a valid identifier answers 404. ' +
      'Writes are applied by the ledger after they are answered (202); `Prefer: wait=N` (N <= 10) on ' +
      'POST /v1/transfers, capture, void and reverse waits up to N seconds for the result instead.',
  },
} as const;

export interface IngestAppOptions extends RegionWiringOptions {
  /** Access lines and unexpected errors. Default: no access lines, unexpected errors to stderr. */
  readonly log?: AppLog;
}

/**
 * The HTTP API over an IngestService: validation, status mapping and the OpenAPI document at
 * GET /openapi.json. No AWS here; see {@link buildIngestApp} for the wired one.
 *
 * @example
 * const app = createApp(new IngestService({ reader, recorder, queue, region: 'eu-west-1' }));
 * const res = await app.request('/health');
 */
export function createApp(service: IngestService, options: IngestAppOptions = {}): IngestApp {
  const log = options.log ?? quietLog;
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
  app.use('*', accessLog(log));
  app.onError(errorHandler(log));
  app.notFound(notFoundOrMethodNotAllowed(() => app.routes));
  registerHealthRoute(app);
  registerAccountRoutes(app, service);
  registerTransferRoutes(app, service);
  registerTransferActionRoutes(app, service);
  registerBatchRoute(app, service);
  app.doc31(OPENAPI_PATH, OPENAPI_OBJECT_CONFIG);
  return app;
}

/** The OpenAPI 3.1 document, as served at GET /openapi.json. */
export function openApiDocument(app: IngestApp) {
  return app.getOpenAPI31Document(OPENAPI_OBJECT_CONFIG);
}

/**
 * The app over the real adapters (DynamoDB store, Kinesis queue), built once per cold start.
 * Logs through Powertools unless `options.log` says otherwise.
 */
export function buildIngestApp(config: RuntimeConfig, options: IngestAppOptions = {}): IngestApp {
  const wired = wireRegions(config, options);
  const service = new IngestService({
    reader: wired.store,
    recorder: wired.store,
    queue: wired.queue,
    region: config.ledgerRegion,
    regions: wired.regions,
  });
  const log =
    options.log ??
    powertoolsLog(new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? DEFAULT_SERVICE_NAME }));
  return createApp(service, { log });
}
