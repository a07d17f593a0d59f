import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
// zod/mini, as the shared config it extends (see shared/domain/identifiers.ts).
import * as z from 'zod/mini';
import { createClients } from '../../shared/adapters/clients.js';
import { DynamoLedgerScanner } from '../../shared/adapters/dynamo-ledger-scanner.js';
import { ConfigError, RuntimeEnv } from '../../shared/config.js';
import { auditJson } from '../../shared/domain/audit.js';
import {
  AUDIT_DEFAULTS,
  AUDIT_METRICS,
  type AuditOptions,
  type AuditReport,
  AuditService,
  CONCURRENCY_MAX,
  PAGE_SIZE_MAX,
  SEGMENTS_MAX,
} from '../../shared/services/audit-service.js';

/** Differences written to one log line at most; the metric counts them all. */
export const LOGGED_DIFFERENCES_MAX = 100;

const Bounded = (max: number) => z.optional(z.coerce.number().check(z.int(), z.gte(1), z.lte(max)));

/** The auditor Lambda's environment (the CDK construct sets it). Parsed once, at cold start. */
export const AuditorEnv = z.object({
  LEDGER_TABLE_NAME: RuntimeEnv.shape.LEDGER_TABLE_NAME,
  AWS_REGION: RuntimeEnv.shape.AWS_REGION,
  /** Audits only the accounts homed in this region: the ones this region writes, read consistently here. */
  LEDGER_REGION: RuntimeEnv.shape.LEDGER_REGION,
  AWS_ENDPOINT_URL: RuntimeEnv.shape.AWS_ENDPOINT_URL,
  AWS_ENDPOINT_URL_DYNAMODB: RuntimeEnv.shape.AWS_ENDPOINT_URL_DYNAMODB,
  AUDIT_ITEMS_MAX: Bounded(100_000_000),
  AUDIT_SCAN_SEGMENTS: Bounded(SEGMENTS_MAX),
  AUDIT_CONCURRENCY: Bounded(CONCURRENCY_MAX),
  AUDIT_PAGE_SIZE: Bounded(PAGE_SIZE_MAX),
});

/** Where to audit and how. */
export interface AuditorSettings {
  readonly tableName: string;
  readonly awsRegion: string;
  readonly dynamodbEndpoint: string | undefined;
  readonly options: AuditOptions;
}

/** Parses the Lambda's environment. Throws ConfigError naming every bad variable. */
export function loadAuditorSettings(env: Record<string, string | undefined> = process.env): AuditorSettings {
  const parsed = AuditorEnv.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`invalid auditor configuration: ${lines.join('; ')}`);
  }
  const e = parsed.data;
  return {
    tableName: e.LEDGER_TABLE_NAME,
    awsRegion: e.AWS_REGION,
    dynamodbEndpoint: e.AWS_ENDPOINT_URL_DYNAMODB ?? e.AWS_ENDPOINT_URL,
    options: {
      segments: e.AUDIT_SCAN_SEGMENTS ?? AUDIT_DEFAULTS.segments,
      pageSize: e.AUDIT_PAGE_SIZE ?? AUDIT_DEFAULTS.pageSize,
      itemsMax: e.AUDIT_ITEMS_MAX ?? AUDIT_DEFAULTS.itemsMax,
      concurrency: e.AUDIT_CONCURRENCY ?? AUDIT_DEFAULTS.concurrency,
      homeRegion: e.LEDGER_REGION,
    },
  };
}

/** The DynamoDB client as every function configures it (shared/adapters/clients.ts: retries, emulators). */
export function auditClient(
  settings: Pick<AuditorSettings, 'awsRegion' | 'dynamodbEndpoint' | 'tableName'>,
): DynamoDBClient {
  const { dynamodb, kinesis } = createClients({
    awsRegion: settings.awsRegion,
    dynamodbEndpoint: settings.dynamodbEndpoint,
    kinesisEndpoint: undefined,
  });
  kinesis.destroy(); // the audit reads the table only
  return dynamodb;
}

/** Wires the audit over the real scanner (the Lambda and tools/audit.ts). */
export function buildAuditService(
  settings: AuditorSettings,
  client: DynamoDBClient = auditClient(settings),
): AuditService {
  return new AuditService(new DynamoLedgerScanner(client, settings.tableName), settings.options);
}

/** What the handler logs through (a Powertools Logger). */
export interface AuditLog {
  info(message: string, attributes: Record<string, unknown>): void;
  error(message: string, attributes: Record<string, unknown>): void;
}

/** What the handler publishes through (a Powertools Metrics). */
export interface AuditMetrics {
  addMetric(name: string, unit: typeof MetricUnit.Count, value: number): unknown;
  publishStoredMetrics(): void;
}

export interface AuditRunSummary {
  readonly ok: boolean;
  readonly differences: number;
  readonly accounts: number;
  readonly transfers: number;
  readonly inFlightSettled: number;
  readonly durationMs: number;
}

/**
 * The scheduled run: audits, publishes LedgerAuditRuns and LedgerAuditDifferences (the alarm fires
 * on one difference), and logs each named difference. A run that cannot finish (read bound, table
 * unreachable) throws: the function's Errors alarm covers it.
 */
export function createAuditHandler(
  service: Pick<AuditService, 'run'>,
  deps: { readonly logger: AuditLog; readonly metrics: AuditMetrics },
): () => Promise<AuditRunSummary> {
  const { logger, metrics } = deps;
  return async () => {
    const report = await service.run();
    metrics.addMetric(AUDIT_METRICS.runs, MetricUnit.Count, 1);
    metrics.addMetric(AUDIT_METRICS.differences, MetricUnit.Count, report.differences.length);
    metrics.addMetric(AUDIT_METRICS.inFlight, MetricUnit.Count, report.inFlight.settled);
    metrics.publishStoredMetrics();
    const summary = summaryOf(report);
    if (report.ok) {
      logger.info('ledger audit passed', {
        ...summary,
        currencies: jsonOf(report.currencies),
        counts: report.counts,
      });
    } else {
      logger.error('ledger audit found differences', {
        ...summary,
        named: jsonOf(report.differences.slice(0, LOGGED_DIFFERENCES_MAX)),
        currencies: jsonOf(report.currencies),
      });
    }
    return summary;
  };
}

function summaryOf(report: AuditReport): AuditRunSummary {
  return {
    ok: report.ok,
    differences: report.differences.length,
    accounts: report.counts.accounts,
    transfers: report.counts.transfers,
    inFlightSettled: report.inFlight.settled,
    durationMs: report.timingsMs.total,
  };
}

/** Money as decimal strings: the logger cannot serialize bigint. */
function jsonOf(value: unknown): unknown {
  return JSON.parse(auditJson(value));
}
