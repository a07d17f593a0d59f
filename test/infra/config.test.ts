import * as fs from 'node:fs';
import { App } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import {
  LedgerConfigError,
  LedgerRegions,
  ledgerRegionsJson,
  PLACEHOLDER_ACCOUNT,
  parseLedgerConfig,
  readLedgerContext,
} from '../../infra-cdk/config.js';
import { buildLedgerApp } from '../../infra-cdk/ledger-app.js';
import { cdkJsonContext, makeTempDir, REPO_ROOT } from './synth.js';

const defaults = () => readLedgerContext(cdkJsonContext());
const CERT = 'arn:aws:acm:us-east-2:123456789012:certificate/11111111-2222-3333-4444-555555555555';

function failure(raw: Record<string, unknown>): string {
  try {
    parseLedgerConfig({ ...defaults(), ...raw });
  } catch (error) {
    expect(error).toBeInstanceOf(LedgerConfigError);
    return (error as Error).message;
  }
  throw new Error('expected the context to be rejected');
}

describe('context defaults (cdk.json)', () => {
  it('deploy to us-east-2 and ca-central-1 with IAM auth and the EdgeLedger namespace', () => {
    const config = parseLedgerConfig(defaults());
    expect(config).toMatchObject({
      primaryRegion: 'us-east-2',
      secondaryRegion: 'ca-central-1',
      auth: 'iam',
      metricsNamespace: 'EdgeLedger',
      tableName: 'edge-ledger',
      logRetentionDays: 365,
    });
    expect(config.customDomain).toBeUndefined();
    expect(config.latencyRouting).toBeUndefined();
  });

  it('derive LEDGER_REGIONS: both regions, primary first, each with the table and stream names', () => {
    const config = parseLedgerConfig({ ...defaults(), primaryRegion: 'eu-west-1', tableName: 'books' });
    expect(ledgerRegionsJson(config)).toBe(
      '{"eu-west-1":{"tableName":"books","streamName":"books-transfers"},' +
        '"ca-central-1":{"tableName":"books","streamName":"books-transfers"}}',
    );
    expect(config.names).toMatchObject({
      consumerFunctionName: 'books-consumer',
      reconcilerRuleName: 'books-reconciler',
    });
  });

  it('take the account from context, else CDK_DEFAULT_ACCOUNT, else the offline placeholder', () => {
    expect(parseLedgerConfig({ account: '222222222222' }, '333333333333').account).toBe('222222222222');
    expect(parseLedgerConfig({}, '333333333333').account).toBe('333333333333');
    expect(parseLedgerConfig({}, undefined).account).toBe(PLACEHOLDER_ACCOUNT);
  });

  it('ignore CDK feature flags and CLI keys but keep this app keys', () => {
    const raw = readLedgerContext({
      '@aws-cdk/core:enablePartitionLiterals': true,
      'aws:cdk:bundling-stacks': [],
      'cli-telemetry': false,
      auth: 'jwt',
    });
    expect(raw).toEqual({ auth: 'jwt' });
  });

  it('accept -c strings for numbers, lists and objects', () => {
    const config = parseLedgerConfig({
      apiThrottleRateLimit: '50',
      apiThrottleBurstLimit: '100',
      auth: 'jwt',
      jwtIssuer: 'https://id.example.com/',
      jwtAudience: 'ledger-api, ledger-ops',
      latencyRouting: '{"hostedZoneId":"Z123ABC","zoneName":"example.com"}',
      customDomain: JSON.stringify({
        domainName: 'api.example.com',
        certificateArns: { 'us-east-2': CERT, 'ca-central-1': CERT.replace('us-east-2', 'ca-central-1') },
        truststorePath: 'certs/truststore.pem',
      }),
    });
    expect(config.apiThrottleRateLimit).toBe(50);
    expect(config.jwtAudience).toEqual(['ledger-api', 'ledger-ops']);
    expect(config.latencyRouting?.zoneName).toBe('example.com');
  });
});

describe('invalid context fails synth with a message naming the key', () => {
  it('rejects an unknown auth mode', () => {
    expect(failure({ auth: 'basic' })).toMatch(/auth: .*"iam".*"jwt"/);
  });

  it('requires issuer and audience for JWT auth', () => {
    const message = failure({ auth: 'jwt' });
    expect(message).toContain('jwtIssuer: is required when auth is "jwt"');
    expect(message).toContain('jwtAudience: is required when auth is "jwt"');
  });

  it('rejects a malformed region and equal regions', () => {
    expect(failure({ primaryRegion: 'Ohio' })).toContain('primaryRegion: must look like an AWS region');
    expect(failure({ secondaryRegion: 'us-east-2' })).toContain(
      'secondaryRegion: must differ from primaryRegion',
    );
  });

  it('rejects a bad account id and a non-https issuer', () => {
    expect(failure({ account: '1234' })).toContain('account: must be a 12-digit AWS account id');
    expect(failure({ auth: 'jwt', jwtIssuer: 'http://id.example.com', jwtAudience: 'a' })).toContain(
      'jwtIssuer: must be an https:// URL',
    );
  });

  it('rejects a log retention CloudWatch does not offer, or shorter than PCI DSS allows', () => {
    expect(failure({ logRetentionDays: 42 })).toMatch(/logRetentionDays: must be one of/);
    expect(failure({ logRetentionDays: 90 })).toContain('logRetentionDays: must be at least 365');
  });

  it('rejects a table name too long for the function and rule names derived from it', () => {
    expect(() => parseLedgerConfig({ ...defaults(), tableName: 'a'.repeat(53) })).not.toThrow();
    expect(failure({ tableName: 'a'.repeat(54) })).toContain('tableName: must be at most 53 characters');
  });

  it('checks LEDGER_REGIONS against its wire schema: two regions or more, known keys, valid names', () => {
    const entry = { tableName: 'edge-ledger', streamName: 'edge-ledger-transfers' };
    expect(LedgerRegions.safeParse({ 'us-east-2': entry, 'ca-central-1': entry }).success).toBe(true);
    expect(LedgerRegions.safeParse({ 'us-east-2': entry }).success).toBe(false);
    expect(LedgerRegions.safeParse({ 'us-east-2': entry, Canada: entry }).success).toBe(false);
    expect(
      LedgerRegions.safeParse({ 'us-east-2': entry, 'ca-central-1': { ...entry, extra: 1 } }).success,
    ).toBe(false);
    expect(
      LedgerRegions.safeParse({ 'us-east-2': entry, 'ca-central-1': { ...entry, streamName: 'a/b' } })
        .success,
    ).toBe(false);
  });

  it('rejects a misspelt key instead of ignoring it', () => {
    expect(failure({ primaryRgion: 'us-west-2' })).toMatch(/primaryRgion/);
  });

  it('rejects a custom domain without a certificate for each region, and routing without a domain', () => {
    const message = failure({
      customDomain: {
        domainName: 'api.example.com',
        certificateArns: { 'us-east-2': CERT },
        truststorePath: 't.pem',
      },
    });
    expect(message).toContain(
      'customDomain.certificateArns.ca-central-1: needs a certificate for ca-central-1',
    );
    expect(failure({ latencyRouting: { hostedZoneId: 'Z1', zoneName: 'example.com' } })).toContain(
      'latencyRouting: requires customDomain',
    );
  });

  it('fails buildLedgerApp (and so cdk synth) before any stack exists', () => {
    // An App without outdir makes its own temporary directory; give it one we delete.
    const outdir = makeTempDir();
    try {
      const app = new App({ outdir, context: { ...cdkJsonContext(), auth: 'oauth', logLevel: 'TRACE' } });
      expect(() => buildLedgerApp(app, { projectRoot: REPO_ROOT })).toThrow(
        /invalid CDK context \(cdk.json or -c\):\n {2}- auth: .*\n {2}- logLevel: /,
      );
      expect(app.node.children).toHaveLength(0);
    } finally {
      fs.rmSync(outdir, { recursive: true, force: true });
    }
  });
});
