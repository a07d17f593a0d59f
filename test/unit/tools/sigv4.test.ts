import { SignatureV4 } from '@smithy/signature-v4';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { regionOfApiUrl, Sha256, sigv4Signer } from '../../../tools/load/sigv4.js';

describe('SigV4 signing for the load generator', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it("signs AWS's own get-vanilla test vector correctly (the SHA-256 adapter is right)", async () => {
    const signer = new SignatureV4({
      service: 'service',
      region: 'us-east-1',
      credentials: {
        accessKeyId: 'AKIDEXAMPLE',
        secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
      },
      sha256: Sha256,
      applyChecksum: false,
    });
    const signed = await signer.sign(
      {
        method: 'GET',
        protocol: 'https:',
        hostname: 'example.amazonaws.com',
        path: '/',
        query: {},
        headers: { host: 'example.amazonaws.com' },
      },
      { signingDate: new Date('2015-08-30T12:36:00Z') },
    );
    expect(signed.headers.authorization).toBe(
      'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, ' +
        'SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31',
    );
  });

  it('signs for execute-api in the given region with the credential chain, and leaves Host to fetch', async () => {
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIDTEST');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'secret');
    vi.stubEnv('AWS_SESSION_TOKEN', 'token');
    const sign = sigv4Signer('ca-central-1');
    const headers = await sign(
      'POST',
      new URL('https://abc.execute-api.ca-central-1.amazonaws.com/v1/transfers'),
      { 'content-type': 'application/json' },
      '{}',
    );
    expect(headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDTEST\/\d{8}\/ca-central-1\/execute-api\/aws4_request, SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date;x-amz-security-token, Signature=[0-9a-f]{64}$/,
    );
    expect(headers['x-amz-security-token']).toBe('token');
    expect(headers.host).toBeUndefined();
  });

  it('reads the region of an execute-api URL', () => {
    expect(regionOfApiUrl('https://a1b2c3.execute-api.us-east-2.amazonaws.com/')).toBe('us-east-2');
    expect(regionOfApiUrl('https://api.ledger.example.com/')).toBeUndefined();
  });
});
