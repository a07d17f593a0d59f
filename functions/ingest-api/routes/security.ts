/**
 * How the deployed API authenticates callers (infra-cdk/constructs/ingest-api.ts): API Gateway
 * checks every route but GET /health before the function runs, with IAM (SigV4-signed requests)
 * or a JWT authorizer, as the stack's `auth` context chooses. Documentation only: the function
 * trusts API Gateway and checks nothing itself (the local stack has no authorizer). openapi.ts adds
 * them to the document's components.
 */
export const SECURITY_SCHEMES = {
  sigv4: {
    type: 'apiKey',
    in: 'header',
    name: 'Authorization',
    description:
      'IAM auth (the default): AWS Signature Version 4 of a principal allowed execute-api:Invoke on this API',
  },
  jwt: {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description:
      "JWT auth: a bearer token from the stack's OIDC issuer. API Gateway's JWT authorizer validates it as " +
      "RFC8725 (JWT best current practices) asks: the signature with the issuer's published RSA keys only " +
      '(never `none`), the issuer, the audience, and the expiry and not-before times.',
  },
} as const;

/** Either scheme, whichever the stack was deployed with. */
export const AUTHENTICATED: Record<string, string[]>[] = [{ sigv4: [] }, { jwt: [] }];
/** GET /health only. */
export const PUBLIC: Record<string, string[]>[] = [];
