import { Logger } from '@aws-lambda-powertools/logger';
import { handle } from 'hono/aws-lambda';
import { loadConfig } from '../../shared/config.js';
import { buildIngestApp, DEFAULT_SERVICE_NAME } from './app.js';
import { powertoolsLog } from './logging.js';

/**
 * Lambda entry for API Gateway HTTP API (payload v2). Config, clients and the app are built once,
 * at cold start: a bad environment fails the start, not a request.
 */
const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? DEFAULT_SERVICE_NAME });

export const handler = handle(buildIngestApp(loadConfig(), { log: powertoolsLog(logger) }));
