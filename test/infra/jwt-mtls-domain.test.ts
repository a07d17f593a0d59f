import * as fs from 'node:fs';
import * as path from 'node:path';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  makeTempDir,
  resourcesOf,
  roleStatements,
  SYNTH_TIMEOUT_MS,
  type SynthesizedLedger,
  synthLedger,
} from './synth.js';

/** The optional features, all on: JWT auth, a mutual TLS custom domain, Route 53 latency routing. */
const ISSUER = 'https://id.example.com/';
const certificateArn = (region: string) =>
  `arn:aws:acm:${region}:123456789012:certificate/11111111-2222-3333-4444-555555555555`;

let synth: SynthesizedLedger;
let outdir: string;
let primary: Template;
let secondary: Template;
const regional = () => [primary, secondary];

beforeAll(() => {
  outdir = makeTempDir();
  const truststorePath = path.join(outdir, 'truststore.pem');
  fs.writeFileSync(truststorePath, '-----BEGIN CERTIFICATE-----\nMIIBtest\n-----END CERTIFICATE-----\n');
  synth = synthLedger(
    {
      auth: 'jwt',
      jwtIssuer: ISSUER,
      jwtAudience: ['ledger-api'],
      customDomain: {
        domainName: 'api.ledger.example.com',
        certificateArns: {
          'us-east-2': certificateArn('us-east-2'),
          'ca-central-1': certificateArn('ca-central-1'),
        },
        truststorePath,
      },
      latencyRouting: { hostedZoneId: 'Z0123456789ABCDEFGHIJ', zoneName: 'example.com' },
    },
    path.join(outdir, 'cdk.out'),
  );
  primary = synth.primary;
  secondary = synth.secondary;
}, SYNTH_TIMEOUT_MS);

afterAll(() => fs.rmSync(outdir, { recursive: true, force: true }));

describe('JWT auth', () => {
  it('checks issuer and audience of the bearer token', () => {
    for (const t of regional()) {
      t.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
        AuthorizerType: 'JWT',
        IdentitySource: ['$request.header.Authorization'],
        JwtConfiguration: { Issuer: ISSUER, Audience: ['ledger-api'] },
      });
    }
  });

  it('protects every route but GET /health, in both regions', () => {
    for (const t of regional()) {
      const routes = Object.values(resourcesOf(t, 'AWS::ApiGatewayV2::Route'));
      expect(routes).toHaveLength(3);
      for (const route of routes) {
        const expected = route.Properties?.RouteKey === 'GET /health' ? 'NONE' : 'JWT';
        expect(route.Properties?.AuthorizationType).toBe(expected);
      }
    }
  });
});

describe('mutual TLS custom domain', () => {
  it('requires client certificates from the truststore and disables the execute-api endpoint', () => {
    for (const t of regional()) {
      t.hasResourceProperties('AWS::ApiGatewayV2::DomainName', {
        DomainName: 'api.ledger.example.com',
        DomainNameConfigurations: [Match.objectLike({ EndpointType: 'REGIONAL', SecurityPolicy: 'TLS_1_2' })],
        MutualTlsAuthentication: {
          TruststoreUri: {
            'Fn::Join': [
              '',
              ['s3://', Match.anyValue(), Match.stringLikeRegexp('^/truststore-[0-9a-f]{16}\\.pem$')],
            ],
          },
        },
      });
      t.hasResourceProperties('AWS::ApiGatewayV2::Api', { DisableExecuteApiEndpoint: true });
      t.resourceCountIs('AWS::ApiGatewayV2::ApiMapping', 1);
    }
    primary.hasOutput('ApiUrl', { Value: { 'Fn::Join': ['', ['https://', Match.anyValue(), '/']] } });
  });

  it('keeps the truststore in a versioned, KMS-encrypted, non-public, TLS-only bucket with access logs', () => {
    primary.hasResourceProperties('AWS::S3::Bucket', {
      VersioningConfiguration: { Status: 'Enabled' },
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          Match.objectLike({ ServerSideEncryptionByDefault: Match.objectLike({ SSEAlgorithm: 'aws:kms' }) }),
        ],
      },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      LoggingConfiguration: Match.objectLike({ DestinationBucketName: Match.anyValue() }),
    });
    primary.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  it('uploads the truststore with a role that can write only that object', () => {
    const statements = roleStatements(primary, 'MtlsDomainUploadRole');
    const put = statements.find((s) => JSON.stringify(s.Action) === '"s3:PutObject"');
    expect(JSON.stringify(put?.Resource)).toMatch(/\/truststore-[0-9a-f]{16}\.pem"\]\]\}$/);
    expect(statements.filter((s) => JSON.stringify(s.Resource) === '"*"')).toEqual([]);
  });
});

describe('Route 53 latency routing', () => {
  it('adds one latency record per region, each with a health check that follows the API 5xx alarm', () => {
    for (const [t, region] of [
      [primary, 'us-east-2'],
      [secondary, 'ca-central-1'],
    ] as const) {
      t.hasResourceProperties('AWS::Route53::RecordSet', {
        Name: 'api.ledger.example.com.',
        Type: 'A',
        Region: region,
        SetIdentifier: region,
        HostedZoneId: 'Z0123456789ABCDEFGHIJ',
        HealthCheckId: { Ref: Match.stringLikeRegexp('^LatencyRecordHealthCheck') },
      });
      t.hasResourceProperties('AWS::Route53::HealthCheck', {
        HealthCheckConfig: Match.objectLike({
          Type: 'CLOUDWATCH_METRIC',
          AlarmIdentifier: { Region: region, Name: { Ref: Match.stringLikeRegexp('^MonitoringApi5xx') } },
        }),
      });
    }
  });
});

describe('cdk-nag with every option on', () => {
  it('leaves no unacknowledged finding', () => {
    expect(synth.validationReport.pluginReports.flatMap((r) => r.violations ?? [])).toEqual([]);
  });
});
