import spectralCore from '@stoplight/spectral-core';
import spectralParsers from '@stoplight/spectral-parsers';
import { describe, expect, it } from 'vitest';
import { ERROR_DETAILS_MAX } from '../../functions/ingest-api/errors.js';
import { ERROR_DETAILS_DOCUMENTED_MAX } from '../../functions/ingest-api/schemas.js';
import { createTestApi } from '../unit/api/harness.js';
import { OPENAPI_RULESET } from './openapi-ruleset.js';

/**
 * The OpenAPI document (as GET /openapi.json serves it) linted with Spectral and the OWASP API
 * Security ruleset: no error. Warnings are printed, not failed.
 */
const { Spectral, Document } = spectralCore;
const SEVERITY = ['error', 'warn', 'info', 'hint'] as const;

interface Finding {
  readonly severity: (typeof SEVERITY)[number];
  readonly code: string;
  readonly path: string;
  readonly message: string;
}

async function lint(documentText: string): Promise<Finding[]> {
  const spectral = new Spectral();
  spectral.setRuleset(OPENAPI_RULESET as never);
  const results = await spectral.run(new Document(documentText, spectralParsers.Json, 'openapi.json'));
  return results.map((r) => ({
    severity: SEVERITY[r.severity] ?? 'hint',
    code: String(r.code),
    path: r.path.join('.'),
    message: r.message,
  }));
}

async function servedDocument(): Promise<string> {
  const res = await createTestApi().get('/openapi.json');
  expect(res.status).toBe(200);
  return res.text();
}

describe('OpenAPI document, Spectral + OWASP API Security ruleset', () => {
  it('has no error', async () => {
    const findings = await lint(await servedDocument());
    const errors = findings.filter((f) => f.severity === 'error');
    const warnings = findings.filter((f) => f.severity === 'warn');
    const byCode = new Map<string, number>();
    for (const w of warnings) byCode.set(w.code, (byCode.get(w.code) ?? 0) + 1);
    console.log(
      `spectral: ${errors.length} error(s), ${warnings.length} warning(s)\n` +
        [...byCode].map(([code, n]) => `  warn ${code} x${n}`).join('\n') +
        `\n${warnings.map((w) => `    ${w.code} ${w.path}`).join('\n')}`,
    );
    expect(errors.map((e) => `${e.code} at ${e.path}: ${e.message}`)).toEqual([]);
  });

  it('would fail on an unbounded string (the lint can fail)', async () => {
    const doc = JSON.parse(await servedDocument()) as {
      components: { schemas: Record<string, { properties: Record<string, unknown> }> };
    };
    const transfer = doc.components.schemas.TransferRequest;
    if (transfer === undefined) throw new Error('no TransferRequest schema');
    transfer.properties.reference = { type: 'string' };
    const errors = (await lint(JSON.stringify(doc))).filter((f) => f.severity === 'error');
    expect(errors.map((e) => e.code)).toContain('owasp:api4:2023-string-limit');
  });

  it('documents as many error details as the API lists', () => {
    expect(ERROR_DETAILS_DOCUMENTED_MAX).toBe(ERROR_DETAILS_MAX);
  });
});
