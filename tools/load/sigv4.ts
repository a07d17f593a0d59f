import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { SignatureV4 } from '@smithy/signature-v4';

/** SHA-256 (or HMAC-SHA-256 with a secret) in the shape SignatureV4 asks for. */
export class Sha256 {
  private hash: Hash | Hmac;

  constructor(private readonly secret?: string | ArrayBuffer | ArrayBufferView) {
    this.hash = this.fresh();
  }

  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.hash.update(typeof data === 'string' ? data : toBuffer(data));
  }

  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }

  reset(): void {
    this.hash = this.fresh();
  }

  private fresh(): Hash | Hmac {
    if (this.secret === undefined) return createHash('sha256');
    return createHmac('sha256', typeof this.secret === 'string' ? this.secret : toBuffer(this.secret));
  }
}

function toBuffer(data: ArrayBuffer | ArrayBufferView): Buffer {
  return ArrayBuffer.isView(data)
    ? Buffer.from(data.buffer, data.byteOffset, data.byteLength)
    : Buffer.from(data);
}

/** The region of an `https://<id>.execute-api.<region>.amazonaws.com` URL, if it is one. */
export function regionOfApiUrl(url: string): string | undefined {
  return /\.execute-api\.([a-z]{2}(?:-[a-z]+)+-\d)\.amazonaws\.com$/.exec(new URL(url).hostname)?.[1];
}

export type Signer = (
  method: string,
  url: URL,
  headers: Record<string, string>,
  body: string | undefined,
) => Promise<Record<string, string>>;

/**
 * Signs requests for API Gateway's IAM authorizer (service `execute-api`) with the default AWS
 * credential chain (environment, profile, SSO, instance role...). Returns the headers to send.
 */
export function sigv4Signer(region: string): Signer {
  const signer = new SignatureV4({
    service: 'execute-api',
    region,
    credentials: defaultProvider(),
    sha256: Sha256,
  });
  return async (method, url, headers, body) => {
    const query: Record<string, string> = {};
    url.searchParams.forEach((value, key) => {
      query[key] = value;
    });
    const signed = await signer.sign({
      method,
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port === '' ? {} : { port: Number(url.port) }),
      path: url.pathname,
      query,
      headers: { ...headers, host: url.host },
      ...(body === undefined ? {} : { body }),
    });
    // fetch sets Host itself (to the same value that was signed).
    const { host: _host, ...rest } = signed.headers;
    return rest;
  };
}
