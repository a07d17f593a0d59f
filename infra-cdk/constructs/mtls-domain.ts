import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { acknowledge } from '../nag.js';
import { EncryptionKey } from './encryption-key.js';
import type { ObservabilitySettings } from './ledger-function.js';

/** Hex digits of the content hash in the truststore's object key. */
const TRUSTSTORE_HASH_CHARS = 16;

/**
 * Object key of a truststore: named by its content, so a changed bundle gets a new key, which changes the
 * domain's truststore URI, which makes API Gateway load it (it does not watch the object).
 */
export function truststoreKey(pem: string): string {
  return `truststore-${createHash('sha256').update(pem).digest('hex').slice(0, TRUSTSTORE_HASH_CHARS)}.pem`;
}
/** Server access logs of the truststore bucket are kept as long as the other audit logs (PCI DSS 10.7). */
const ACCESS_LOG_EXPIRATION = Duration.days(365);

export interface MtlsDomainProps {
  readonly domainName: string;
  readonly certificateArn: string;
  /** Absolute path of the PEM bundle of trusted client CAs. */
  readonly truststoreFile: string;
  readonly aliasPrefix: string;
  readonly observability: ObservabilitySettings;
}

/**
 * A regional API Gateway custom domain that requires a client certificate (mutual TLS).
 *
 * The truststore (PEM bundle of client CAs) lives in a bucket of its own: versioned, KMS-encrypted,
 * public access blocked, TLS only, with server access logs. It is uploaded at deploy time from the
 * repository under a content-addressed key, so changing the file and redeploying makes API Gateway load
 * the new truststore.
 */
export class MtlsDomain extends Construct {
  public readonly domain: apigwv2.DomainName;
  /** The public name, as configured (not a token). */
  public readonly domainName: string;
  public readonly truststoreBucket: s3.Bucket;
  public readonly accessLogBucket: s3.Bucket;
  public readonly upload: cr.AwsCustomResource;
  public readonly key: kms.IKey;

  constructor(scope: Construct, id: string, props: MtlsDomainProps) {
    super(scope, id);
    this.domainName = props.domainName;
    if (!fs.existsSync(props.truststoreFile)) {
      throw new Error(`customDomain.truststorePath: no file at ${props.truststoreFile}`);
    }
    this.key = new EncryptionKey(this, 'Key', {
      alias: `${props.aliasPrefix}/truststore`,
      description: 'Encrypts the mutual TLS truststore bucket',
    }).key;
    // S3 server access logs can only be delivered to an SSE-S3 bucket.
    this.accessLogBucket = new s3.Bucket(this, 'AccessLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      versioned: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [
        { expiration: ACCESS_LOG_EXPIRATION, noncurrentVersionExpiration: ACCESS_LOG_EXPIRATION },
      ],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.truststoreBucket = new s3.Bucket(this, 'Truststore', {
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: this.key,
      bucketKeyEnabled: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      versioned: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: bucketRef(this.accessLogBucket),
      serverAccessLogsPrefix: 'truststore/',
      removalPolicy: RemovalPolicy.RETAIN,
    });

    const pem = fs.readFileSync(props.truststoreFile, 'utf8');
    const key = truststoreKey(pem);
    this.upload = this.uploadTruststore(key, pem, props.observability);
    this.domain = new apigwv2.DomainName(this, 'Domain', {
      domainName: props.domainName,
      certificate: acm.Certificate.fromCertificateArn(this, 'Certificate', props.certificateArn),
      endpointType: apigwv2.EndpointType.REGIONAL,
      securityPolicy: apigwv2.SecurityPolicy.TLS_1_2,
      mtls: { bucket: bucketRef(this.truststoreBucket), key },
    });
    this.domain.node.addDependency(this.upload);

    acknowledge(
      this.accessLogBucket,
      ['PCI.DSS.321-S3DefaultEncryptionKMS'],
      'S3 server access logs can only be delivered to a bucket with SSE-S3 (AES-256) default encryption.',
    );
    for (const bucket of [this.accessLogBucket, this.truststoreBucket]) {
      acknowledge(
        bucket,
        ['PCI.DSS.321-S3BucketReplicationEnabled'],
        'Each region has its own copy, rebuilt from the repository on deploy; replication adds nothing.',
      );
    }
  }

  /**
   * Puts the truststore at `key` on every deploy that changes it, with a role that may write that one
   * object (SSE-KMS under the bucket key) and its own log group; the PEM holds only public CA certificates.
   */
  private uploadTruststore(key: string, pem: string, obs: ObservabilitySettings): cr.AwsCustomResource {
    const logGroup = new logs.LogGroup(this, 'UploadLogs', {
      encryptionKey: obs.logKey,
      retention: obs.logRetentionDays,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const role = new iam.Role(this, 'UploadRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'Uploads the mutual TLS truststore at deploy time',
    });
    logGroup.grantWrite(role);
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['s3:PutObject'],
        resources: [this.truststoreBucket.arnForObjects(key)],
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
        resources: [this.key.keyArn],
      }),
    );
    const put: cr.AwsSdkCall = {
      service: 'S3',
      action: 'putObject',
      parameters: {
        Bucket: this.truststoreBucket.bucketName,
        Key: key,
        Body: pem,
        ContentType: 'application/x-pem-file',
      },
      physicalResourceId: cr.PhysicalResourceId.of(key),
      logging: cr.Logging.withDataHidden(),
    };
    const upload = new cr.AwsCustomResource(this, 'Upload', {
      onCreate: put,
      onUpdate: put,
      role,
      logGroup,
      installLatestAwsSdk: false,
      timeout: Duration.minutes(1),
    });
    acknowledge(
      role,
      ['PCI.DSS.321-IAMNoInlinePolicy'],
      'Inline policy of this one upload role: one PutObject grant.',
    );
    // The provider function is a stack-level singleton that AwsCustomResource creates.
    const provider = Stack.of(this).node.tryFindChild(
      `AWS${cr.AwsCustomResource.PROVIDER_FUNCTION_UUID.replace(/-/g, '')}`,
    );
    if (provider !== undefined) {
      acknowledge(
        provider,
        ['PCI.DSS.321-LambdaInsideVPC'],
        'Deploy-time helper that calls only the S3 API (one PutObject) over TLS; no VPC resource to reach.',
      );
    }
    return upload;
  }
}

/**
 * `Bucket` is an `IBucket`, but aws-cdk-lib declares `isWebsite` in a way TypeScript's
 * exactOptionalPropertyTypes rejects; the cast states the type the library means.
 */
function bucketRef(bucket: s3.Bucket): s3.IBucket {
  return bucket as unknown as s3.IBucket;
}
