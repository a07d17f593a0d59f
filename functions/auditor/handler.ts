import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { buildAuditService, createAuditHandler, loadAuditorSettings } from './auditor.js';

const SERVICE_NAME = 'auditor';

/** Lambda entry, run by a schedule (infra-cdk/constructs/auditor.ts). Config is parsed at cold start. */
export const handler = createAuditHandler(buildAuditService(loadAuditorSettings()), {
  logger: new Logger({ serviceName: SERVICE_NAME }),
  // The namespace comes from POWERTOOLS_METRICS_NAMESPACE (set by the CDK stack; its alarm reads it).
  metrics: new Metrics({
    namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'EdgeLedger',
    serviceName: SERVICE_NAME,
  }),
});
