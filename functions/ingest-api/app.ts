import { Logger } from '@aws-lambda-powertools/logger';
import { Hono } from 'hono';
import { type RegionWiringOptions, wireRegions } from '../../shared/adapters/regions.js';
import type { RuntimeConfig } from '../../shared/config.js';
import { IngestService } from '../../shared/services/ingest-service.js';
import type { AppEnv, IngestApp } from './env.js';
import { errorHandler } from './errors.js';
import { type AppLog, powertoolsLog, quietLog } from './logging.js';
import { accessLog, notFoundOrMethodNotAllowed } from './middleware.js';
import { OPENAPI_JSON } from './openapi-document.js';
import { registerRoutes } from './routes/index.js';
import { appRegistrar } from './routes/registrar.js';

export type { IngestApp } from './env.js';

export const OPENAPI_PATH = '/openapi.json';
/** Service name in log lines when POWERTOOLS_SERVICE_NAME is not set. */
export const DEFAULT_SERVICE_NAME = 'ingest-api';

export interface IngestAppOptions extends RegionWiringOptions {
  /** Access lines and unexpected errors. Default: no access lines, unexpected errors to stderr. */
  readonly log?: AppLog;
}

/**
 * The HTTP API over an IngestService: validation, status mapping and the OpenAPI document at
 * GET /openapi.json (generated at build time: openapi-document.ts). No AWS here; see
 * {@link buildIngestApp} for the wired one.
 *
 * @example
 * const app = createApp(new IngestService({ reader, recorder, queue, region: 'eu-west-1' }));
 * const res = await app.request('/health');
 */
export function createApp(service: IngestService, options: IngestAppOptions = {}): IngestApp {
  const log = options.log ?? quietLog;
  const app = new Hono<AppEnv>();
  app.use('*', accessLog(log));
  app.onError(errorHandler(log));
  app.notFound(notFoundOrMethodNotAllowed(() => app.routes));
  registerRoutes(appRegistrar(app), service);
  // The text as it was generated: the same body and content type OpenAPIHono's doc31 answered.
  app.get(OPENAPI_PATH, (c) => c.body(OPENAPI_JSON, 200, { 'Content-Type': 'application/json' }));
  return app;
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
