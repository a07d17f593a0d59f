import owaspModule from '@stoplight/spectral-owasp-ruleset';
import { oas } from '@stoplight/spectral-rulesets';

/**
 * The Spectral ruleset the OpenAPI document of the ingest API is linted with (in `npm test`, by
 * openapi-lint.test.ts): Spectral's OpenAPI rules and the OWASP API Security Top 10 (2023)
 * ruleset, both "recommended", with the rules that do not fit this API switched off, each with
 * its reason. Nothing else is relaxed: any other error fails the test.
 */

// The package is CommonJS with an ES `default` export: under Node's ESM loader it arrives wrapped.
const owasp = ((owaspModule as unknown as { default?: typeof owaspModule }).default ?? owaspModule) as never;

export const OPENAPI_RULESET = {
  extends: [
    [oas as never, 'recommended'],
    [owasp, 'recommended'],
  ],
  rules: {
    // API Gateway HTTP APIs throttle per stage and route (infra-cdk IngestApi) but send no
    // RateLimit-* / X-RateLimit-* headers, and the function cannot know the gateway's budget:
    // documenting such headers would promise what no response carries.
    'owasp:api4:2023-rate-limit': 'off',
    // A server-to-server API (payment back ends, SigV4 or JWT): the HTTP API has no CORS
    // configuration, so browsers are refused by the same-origin policy; there is no
    // Access-Control-Allow-Origin to document.
    'owasp:api8:2023-define-cors-origin': 'off',
  },
} as const;
