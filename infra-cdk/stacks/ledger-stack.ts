import * as path from 'node:path';
import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { type LedgerConfig, ledgerRegionsJson, otherRegions } from '../config.js';
import { Auditor } from '../constructs/auditor.js';
import { EncryptionKey } from '../constructs/encryption-key.js';
import { type ApiAuth, IngestApi } from '../constructs/ingest-api.js';
import { LatencyRecord } from '../constructs/latency-record.js';
import { LedgerConsumer } from '../constructs/ledger-consumer.js';
import {
  type BundlingSettings,
  LedgerFunction,
  type ObservabilitySettings,
} from '../constructs/ledger-function.js';
import { LedgerTable, tableKeyAlias } from '../constructs/ledger-table.js';
import { Monitoring } from '../constructs/monitoring.js';
import { MtlsDomain } from '../constructs/mtls-domain.js';
import { LedgerOperatorRole } from '../constructs/operator-role.js';
import { PeerRegion } from '../constructs/peer-region.js';
import { Reconciler } from '../constructs/reconciler.js';
import { TransferStream } from '../constructs/transfer-stream.js';

/** Lambda entry files, relative to the repository root. */
export const FUNCTION_ENTRIES = {
  ingest: 'functions/ingest-api/handler.ts',
  consumer: 'functions/ledger-consumer/handler.ts',
  reconciler: 'functions/reconciler/handler.ts',
  auditor: 'functions/auditor/handler.ts',
} as const;

export type LedgerStackProps = StackProps & {
  readonly config: LedgerConfig;
  readonly bundling: BundlingSettings;
} & (
    | { readonly placement: 'primary' }
    | {
        readonly placement: 'secondary';
        /** This region's table key, from the replica key stack. */
        readonly replicaKey: kms.IKey;
      }
  );

/**
 * Everything the ledger runs in one region: the HTTP API and ingest function, the command stream, the
 * consumer, the reconciler, the auditor (of the accounts homed here), alarms and a dashboard. The primary
 * region's stack also creates the global table and the operator role; a secondary region's stack uses its
 * replica. Each region writes as itself (LEDGER_REGION) and reaches the other regions' replicas and
 * streams, by name, only for what the two-region write model needs (`PeerRegion`, LEDGER_REGIONS).
 */
export class LedgerStack extends Stack {
  public readonly ledger: LedgerTable;
  public readonly stream: TransferStream;
  public readonly ingest: LedgerFunction;
  public readonly api: IngestApi;
  public readonly consumer: LedgerConsumer;
  public readonly reconciler: Reconciler;
  public readonly auditor: Auditor;
  public readonly monitoring: Monitoring;
  public readonly mtlsDomain: MtlsDomain | undefined;
  /** The other regions of the deployment, as this stack grants on them. */
  public readonly peers: readonly PeerRegion[];
  /** The failover operator role: in the primary region's stack only (IAM is global; see its doc). */
  public readonly operatorRole: LedgerOperatorRole | undefined;

  constructor(scope: Construct, id: string, props: LedgerStackProps) {
    super(scope, id, props);
    const { config, bundling } = props;
    const { names } = config;
    const region = this.region;
    const aliasPrefix = config.tableName;
    const observability = this.observability(config, aliasPrefix);

    this.ledger = this.createLedger(props);
    this.stream = new TransferStream(this, 'Transfers', {
      streamName: names.streamName,
      keyAlias: names.streamKeyAlias,
    });
    this.peers = otherRegions(config, region).map(
      (peer) => new PeerRegion(this, `Peer-${peer}`, { region: peer, names }),
    );
    const regionsJson = ledgerRegionsJson(config);
    const runtimeEnv = {
      LEDGER_TABLE_NAME: config.tableName,
      TRANSFER_STREAM_NAME: this.stream.stream.streamName,
      LEDGER_REGION: region,
      LEDGER_REGIONS: regionsJson,
    };

    this.ingest = this.createIngest(runtimeEnv, observability, bundling);

    this.mtlsDomain = this.createMtlsDomain(config, bundling, observability);
    this.api = new IngestApi(this, 'Api', {
      apiName: `${config.tableName}-ingest`,
      handler: this.ingest.function,
      auth: apiAuth(config),
      throttle: { rateLimit: config.apiThrottleRateLimit, burstLimit: config.apiThrottleBurstLimit },
      observability,
      ...(this.mtlsDomain === undefined ? {} : { domainName: this.mtlsDomain.domain }),
    });

    const functionProps = {
      ledger: this.ledger,
      stream: this.stream,
      peers: this.peers,
      ledgerRegion: region,
      ledgerRegionsJson: regionsJson,
      observability,
      bundling,
    };
    this.consumer = new LedgerConsumer(this, 'Consumer', {
      ...functionProps,
      entry: FUNCTION_ENTRIES.consumer,
      functionName: names.consumerFunctionName,
      aliasPrefix,
    });
    this.reconciler = new Reconciler(this, 'Reconciler', {
      ...functionProps,
      entry: FUNCTION_ENTRIES.reconciler,
      ruleName: names.reconcilerRuleName,
    });
    this.auditor = new Auditor(this, 'Auditor', {
      entry: FUNCTION_ENTRIES.auditor,
      ledger: this.ledger,
      ledgerRegion: region,
      observability,
      bundling,
    });

    this.operatorRole = props.placement === 'primary' ? this.createOperatorRole() : undefined;

    this.monitoring = this.createMonitoring(config, observability);
    if (config.latencyRouting !== undefined && this.mtlsDomain !== undefined) {
      new LatencyRecord(this, 'LatencyRecord', {
        ...config.latencyRouting,
        domainName: this.mtlsDomain.domainName,
        domain: this.mtlsDomain.domain,
        healthAlarm: this.monitoring.api5xxAlarm,
      });
    }
    this.outputs();
  }

  /**
   * The failover operator role, for every region: one for the whole deployment, in the primary stack,
   * because IAM is global (docs/DEPLOY.md, "Cross-region grants and the operator role").
   */
  private createOperatorRole(): LedgerOperatorRole {
    return new LedgerOperatorRole(this, 'LedgerOperatorRole', {
      ledger: this.ledger,
      consumer: this.consumer,
      reconciler: this.reconciler,
      peers: this.peers,
    });
  }

  /** The ingest function, with its grants here and in the other regions. */
  private createIngest(
    environment: Readonly<Record<string, string>>,
    observability: ObservabilitySettings,
    bundling: BundlingSettings,
  ): LedgerFunction {
    const ingest = new LedgerFunction(this, 'Ingest', {
      entry: FUNCTION_ENTRIES.ingest,
      serviceName: 'ingest-api',
      description: 'Validates transfer requests, records them ACCEPTED and puts them on the stream',
      // API latency: memory buys CPU, which shortens cold starts and JSON/zod work.
      memorySizeMb: 1024,
      // Above POST /v1/accounts' 8 s wait for the consumer (ACCOUNT_OPEN_WAIT_MS), so that path ends
      // in the function's own 503 rather than a timeout; well under the HTTP API's 30 s limit.
      timeout: Duration.seconds(15),
      environment,
      observability,
      bundling,
    });
    this.ledger.grantIngestAccess(ingest.function);
    this.stream.grantPublish(ingest.function);
    for (const peer of this.peers) {
      peer.grantPublish(ingest.function);
      peer.grantIngestAccess(ingest.function);
    }
    return ingest;
  }

  private createMonitoring(config: LedgerConfig, observability: ObservabilitySettings): Monitoring {
    return new Monitoring(this, 'Monitoring', {
      topicKey: observability.logKey,
      ...(config.alarmEmail === undefined ? {} : { alarmEmail: config.alarmEmail }),
      metricsNamespace: config.metricsNamespace,
      rejectedTransferRatePercent: config.rejectedTransferRatePercent,
      dashboardName: `${config.tableName}-${this.region}`,
      api: this.api,
      ingest: this.ingest,
      consumer: this.consumer,
      reconciler: this.reconciler,
      auditor: this.auditor,
    });
  }

  /** The global table (primary region) or its local replica (secondary region). */
  private createLedger(props: LedgerStackProps): LedgerTable {
    const { tableName } = props.config;
    return props.placement === 'primary'
      ? new LedgerTable(this, 'Ledger', {
          mode: 'primary',
          tableName,
          key: new EncryptionKey(this, 'TableKey', {
            alias: tableKeyAlias(tableName),
            description: `Encrypts the ${tableName} ledger table in this region`,
          }).key,
          replicaRegions: [props.config.secondaryRegion],
        })
      : new LedgerTable(this, 'Ledger', { mode: 'replica', tableName, key: props.replicaKey });
  }

  /** The mutual TLS custom domain, when `customDomain` is set. */
  private createMtlsDomain(
    config: LedgerConfig,
    bundling: BundlingSettings,
    observability: ObservabilitySettings,
  ): MtlsDomain | undefined {
    const domain = config.customDomain;
    if (domain === undefined) return undefined;
    return new MtlsDomain(this, 'MtlsDomain', {
      domainName: domain.domainName,
      certificateArn: certificateFor(domain.certificateArns, this.region),
      truststoreFile: path.resolve(bundling.projectRoot, domain.truststorePath),
      aliasPrefix: config.tableName,
      observability,
    });
  }

  /** One key for everything operators read (log groups, the alarm topic), usable by those services. */
  private observability(config: LedgerConfig, aliasPrefix: string): ObservabilitySettings {
    const key = new EncryptionKey(this, 'ObservabilityKey', {
      alias: `${aliasPrefix}/observability`,
      description: 'Encrypts the ledger log groups and alarm topic',
    });
    key.allowCloudWatchLogs();
    key.allowCloudWatchAlarms();
    return {
      logKey: key.key,
      logRetentionDays: config.logRetentionDays as logs.RetentionDays,
      logLevel: config.logLevel,
      metricsNamespace: config.metricsNamespace,
    };
  }

  private outputs(): void {
    new CfnOutput(this, 'ApiUrl', { value: this.api.url, description: 'Base URL of the ledger HTTP API' });
    new CfnOutput(this, 'TableName', { value: this.ledger.tableName });
    new CfnOutput(this, 'StreamName', { value: this.stream.stream.streamName });
    new CfnOutput(this, 'ConsumerFunctionName', { value: this.consumer.handler.function.functionName });
    new CfnOutput(this, 'AuditorFunctionName', {
      value: this.auditor.handler.function.functionName,
      description: 'Runs the ledger audit on demand: aws lambda invoke --function-name <this> out.json',
    });
    new CfnOutput(this, 'FailureQueueUrl', {
      value: this.consumer.failureQueue.queueUrl,
      description: 'On-failure records of the ledger consumer (redrive: docs/DEPLOY.md)',
    });
    new CfnOutput(this, 'FailureDlqUrl', {
      value: this.consumer.failureDeadLetterQueue.queueUrl,
      description: 'On-failure records a redrive gave up on',
    });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.monitoring.topic.topicArn });
    new CfnOutput(this, 'DashboardName', { value: this.monitoring.dashboard.dashboardName });
    new CfnOutput(this, 'ReconcilerRuleName', { value: this.reconciler.schedule.ruleName });
    if (this.operatorRole !== undefined) {
      new CfnOutput(this, 'OperatorRoleArn', {
        value: this.operatorRole.role.roleArn,
        description: 'Failover and failback (npm run ops): assume with MFA, 1 h sessions (docs/DEPLOY.md)',
      });
    }
  }
}

function apiAuth(config: LedgerConfig): ApiAuth {
  if (config.auth === 'iam') return { kind: 'iam' };
  if (config.jwtIssuer === undefined || config.jwtAudience === undefined) {
    throw new Error('auth "jwt" without jwtIssuer/jwtAudience passed validation');
  }
  return { kind: 'jwt', issuer: config.jwtIssuer, audience: config.jwtAudience };
}

function certificateFor(arns: Readonly<Record<string, string>>, region: string): string {
  const arn = arns[region];
  if (arn === undefined)
    throw new Error(`customDomain.certificateArns has no ${region} (validation missed it)`);
  return arn;
}
