import * as path from 'node:path';
import { type Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { acknowledge } from '../nag.js';

/** The newest Node.js runtime this aws-cdk-lib offers (checked in aws-lambda/lib/runtime.d.ts). */
export const LEDGER_RUNTIME = lambda.Runtime.NODEJS_24_X;

/** ESM bundles still meet CommonJS dependencies that call `require` for Node built-ins. */
const ESM_REQUIRE_SHIM =
  "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);";

export interface ObservabilitySettings {
  /** Encrypts every log group. */
  readonly logKey: kms.IKey;
  readonly logRetentionDays: logs.RetentionDays;
  readonly logLevel: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
  /** CloudWatch namespace of the Powertools custom metrics. */
  readonly metricsNamespace: string;
}

export interface BundlingSettings {
  /** Absolute path of the repository root (holds package-lock.json and tsconfig.json). */
  readonly projectRoot: string;
}

export interface LedgerFunctionProps {
  /** Entry file relative to the repository root, e.g. `functions/ingest-api/handler.ts`. */
  readonly entry: string;
  /** Physical name, when another region or the operator role must name it; else CloudFormation's. */
  readonly functionName?: string;
  /** POWERTOOLS_SERVICE_NAME: the `service` dimension of its metrics and the `service` key of its logs. */
  readonly serviceName: string;
  readonly description: string;
  readonly memorySizeMb: number;
  readonly timeout: Duration;
  readonly environment: Readonly<Record<string, string>>;
  readonly observability: ObservabilitySettings;
  readonly bundling: BundlingSettings;
}

/**
 * A Node.js Lambda function in the house shape: arm64, newest Node.js runtime, bundled by the local
 * esbuild (never Docker) into one ESM file with the AWS SDK inside (the SDK version tested in the lockfile,
 * not whatever the runtime ships), X-Ray active tracing, JSON logs into its own KMS-encrypted log group
 * with a retention, and a role that starts with nothing but writing to that log group.
 */
export class LedgerFunction extends Construct {
  public readonly function: nodejs.NodejsFunction;
  public readonly role: iam.Role;
  public readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: LedgerFunctionProps) {
    super(scope, id);
    const obs = props.observability;
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      encryptionKey: obs.logKey,
      retention: obs.logRetentionDays,
      // Logs are the audit trail; they outlive the function.
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // Own role instead of AWSLambdaBasicExecutionRole: that managed policy may write to any log group.
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of ${props.serviceName}`,
    });
    this.logGroup.grantWrite(this.role);

    const root = props.bundling.projectRoot;
    this.function = new nodejs.NodejsFunction(this, 'Function', {
      ...(props.functionName === undefined ? {} : { functionName: props.functionName }),
      entry: path.join(root, props.entry),
      handler: 'handler',
      description: props.description,
      runtime: LEDGER_RUNTIME,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySizeMb,
      timeout: props.timeout,
      role: this.role,
      tracing: lambda.Tracing.ACTIVE,
      logGroup: this.logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      applicationLogLevelV2: lambda.ApplicationLogLevel[obs.logLevel],
      systemLogLevelV2: lambda.SystemLogLevel.INFO,
      environment: {
        ...props.environment,
        POWERTOOLS_SERVICE_NAME: props.serviceName,
        POWERTOOLS_METRICS_NAMESPACE: obs.metricsNamespace,
        POWERTOOLS_LOG_LEVEL: obs.logLevel,
        // Events carry account ids and amounts: never log them whole.
        POWERTOOLS_LOGGER_LOG_EVENT: 'false',
        NODE_OPTIONS: '--enable-source-maps',
      },
      projectRoot: root,
      depsLockFilePath: path.join(root, 'package-lock.json'),
      bundling: {
        forceDockerBundling: false,
        format: nodejs.OutputFormat.ESM,
        target: 'node24',
        mainFields: ['module', 'main'],
        banner: ESM_REQUIRE_SHIM,
        minify: true,
        sourceMap: true,
        sourcesContent: false,
        bundleAwsSDK: true,
        tsconfig: path.join(root, 'tsconfig.json'),
      },
    });

    acknowledge(
      this.role,
      ['AwsSolutions-IAM5[Resource::*]'],
      'Only X-Ray PutTraceSegments/PutTelemetryRecords use Resource * (X-Ray has no resource-level permissions).',
    );
    acknowledge(
      this.role,
      ['PCI.DSS.321-IAMNoInlinePolicy'],
      'The inline policy belongs to this one role of this one function and lists only its grants.',
    );
    acknowledge(
      this.function,
      ['PCI.DSS.321-LambdaInsideVPC'],
      'Calls only AWS APIs (DynamoDB, Kinesis, SQS) over TLS with IAM auth; there is no VPC resource to reach.',
    );
  }
}
