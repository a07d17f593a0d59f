import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { buildLedgerApp } from '../../infra-cdk/ledger-app.js';

/** What the cost model takes from the CDK app itself (synthesized offline, bundling skipped). */
export interface CdkSettings {
  readonly source: 'synth' | 'defaults';
  readonly primaryRegion: string;
  readonly secondaryRegion: string;
  readonly memoryMb: { readonly ingest: number; readonly consumer: number; readonly reconciler: number };
  readonly architecture: string;
  readonly consumerBatchSize: number;
  readonly consumerBatchingWindowS: number;
  readonly consumerParallelization: number;
  /** Per region (the primary's stack; the secondary's is the same shape). */
  readonly alarms: number;
  readonly dashboards: number;
  readonly kmsKeys: number;
  readonly streams: number;
  readonly apiRoutes: number;
  readonly apiDetailedMetrics: boolean;
}

/** The values of the CDK source at the time of writing, used with --no-synth. */
export const CDK_DEFAULTS: CdkSettings = {
  source: 'defaults',
  primaryRegion: 'us-east-2',
  secondaryRegion: 'ca-central-1',
  memoryMb: { ingest: 1024, consumer: 1024, reconciler: 512 },
  architecture: 'arm64',
  consumerBatchSize: 100,
  consumerBatchingWindowS: 1,
  consumerParallelization: 4,
  alarms: 10,
  dashboards: 1,
  kmsKeys: 4,
  streams: 1,
  apiRoutes: 3,
  apiDetailedMetrics: true,
};

type Resources = Record<string, { Type: string; Properties?: Record<string, unknown> }>;

/** Synthesizes the app from cdk.json's context (no credentials, no bundling) and reads the settings. */
export function readCdkSettings(projectRoot: string): CdkSettings {
  const outdir = mkdtempSync(join(tmpdir(), 'ledger-cost-'));
  try {
    const context = (JSON.parse(readFileSync(join(projectRoot, 'cdk.json'), 'utf8')) as { context: object })
      .context;
    const app = new App({ outdir, context: { ...context, 'aws:cdk:bundling-stacks': [] } });
    const ledger = buildLedgerApp(app, { projectRoot });
    const assembly = app.synth();
    const primary = assembly.getStackByName(ledger.primary.stackName).template as { Resources: Resources };
    const replicaKey = assembly.getStackByName(ledger.replicaKey.stackName).template as {
      Resources: Resources;
    };
    const resources = Object.entries(primary.Resources);
    const ofType = (type: string) => resources.filter(([, r]) => r.Type === type);
    const memory = (prefix: string) => {
      const fn = ofType('AWS::Lambda::Function').find(([id]) => id.startsWith(prefix));
      const value = fn?.[1].Properties?.MemorySize;
      if (typeof value !== 'number') throw new Error(`no ${prefix} function in the synthesized template`);
      return value;
    };
    const arch = ofType('AWS::Lambda::Function')[0]?.[1].Properties?.Architectures;
    const mapping = ofType('AWS::Lambda::EventSourceMapping')[0]?.[1].Properties ?? {};
    const stage = ofType('AWS::ApiGatewayV2::Stage')[0]?.[1].Properties ?? {};
    const defaultRoute = stage.DefaultRouteSettings as { DetailedMetricsEnabled?: boolean } | undefined;
    // The secondary region's table key lives in the replica key stack; its other keys mirror the primary's.
    const keys = ofType('AWS::KMS::Key').length;
    return {
      source: 'synth',
      primaryRegion: ledger.config.primaryRegion,
      secondaryRegion: ledger.config.secondaryRegion,
      memoryMb: { ingest: memory('Ingest'), consumer: memory('Consumer'), reconciler: memory('Reconciler') },
      architecture: Array.isArray(arch) ? String(arch[0]) : 'x86_64',
      consumerBatchSize: Number(mapping.BatchSize ?? 100),
      consumerBatchingWindowS: Number(mapping.MaximumBatchingWindowInSeconds ?? 0),
      consumerParallelization: Number(mapping.ParallelizationFactor ?? 1),
      alarms: ofType('AWS::CloudWatch::Alarm').length,
      dashboards: ofType('AWS::CloudWatch::Dashboard').length,
      kmsKeys: Math.max(
        keys,
        Object.values(replicaKey.Resources).filter((r) => r.Type === 'AWS::KMS::Key').length,
      ),
      streams: ofType('AWS::Kinesis::Stream').length,
      apiRoutes: ofType('AWS::ApiGatewayV2::Route').length,
      apiDetailedMetrics: defaultRoute?.DetailedMetricsEnabled === true,
    };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}
