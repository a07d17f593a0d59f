import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Metafile } from 'esbuild';
import { beforeAll, describe, expect, it } from 'vitest';
import { cdkBuildOptions } from '../../../tools/bench/bundle.js';

const ENTRY = 'functions/ingest-api/handler.ts';
const PROJECT_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
/** The OpenAPI generator the ingest once used: not even a dependency now, and never in a bundle. */
const BUILD_TIME_PACKAGES = ['@hono/zod-openapi', '@asteasolutions/zod-to-openapi', 'openapi3-ts'];
const ZOD_LOCALES = 'zod/v4/locales/';
/** zod's default error messages: the one locale the ingest loads (schemas.ts). */
const ZOD_DEFAULT_LOCALE = 'en.js';

/**
 * The ingest Lambda as CDK bundles it. Its cold start pays for every byte: the OpenAPI document is
 * generated at build time, so the generator must not come back through an import. esbuild lists
 * every file it parsed in `inputs`, tree-shaken or not; what the output holds is the output's own
 * inputs with bytes in it.
 */
describe(`the ${ENTRY} bundle`, () => {
  let metafile: Metafile;

  beforeAll(async () => {
    // write: false: nothing lands in the directory, which is only named for the source map.
    const options = cdkBuildOptions(PROJECT_ROOT, ENTRY, join(tmpdir(), 'ingest-bundle-guard'));
    const result = await build({ ...options, metafile: true, write: false });
    metafile = result.metafile;
  });

  const bundled = (): string[] => {
    const output = Object.values(metafile.outputs).find((o) => o.entryPoint !== undefined);
    expect(output, 'the bundle output').toBeDefined();
    return Object.entries(output?.inputs ?? {})
      .filter(([, input]) => input.bytesInOutput > 0)
      .map(([path]) => path);
  };

  it('does not import the OpenAPI generator at all', () => {
    const parsed = Object.keys(metafile.inputs);
    expect(parsed.some((path) => path.includes('node_modules/hono/'))).toBe(true);
    for (const name of BUILD_TIME_PACKAGES) {
      expect(parsed.filter((path) => path.includes(`node_modules/${name}/`))).toEqual([]);
    }
  });

  it("holds zod/mini and no part of zod's classic API", () => {
    const files = bundled();
    expect(files.some((path) => path.includes('node_modules/zod/v4/mini/'))).toBe(true);
    expect(files.filter((path) => path.includes('node_modules/zod/v4/classic/'))).toEqual([]);
  });

  it("keeps zod's tree-shaken core only: no locale but its default", () => {
    const files = bundled();
    expect(files.some((path) => path.includes('node_modules/zod/'))).toBe(true);
    const locales = files.filter((path) => path.includes(ZOD_LOCALES));
    expect(locales.map((path) => path.slice(path.indexOf(ZOD_LOCALES) + ZOD_LOCALES.length))).toEqual([
      ZOD_DEFAULT_LOCALE,
    ]);
  });
});

/**
 * The functions that only decode stream records and their environment (consumer, reconciler,
 * auditor) use zod/mini: zod's classic API would add about 64 KB to each cold start.
 */
describe.each([
  'functions/ledger-consumer/handler.ts',
  'functions/reconciler/handler.ts',
  'functions/auditor/handler.ts',
])('the %s bundle', (entry) => {
  it("holds no part of zod's classic API and no OpenAPI generator", async () => {
    const options = cdkBuildOptions(PROJECT_ROOT, entry, join(tmpdir(), 'function-bundle-guard'));
    const { metafile } = await build({ ...options, metafile: true, write: false });
    const output = Object.values(metafile.outputs).find((o) => o.entryPoint !== undefined);
    const files = Object.entries(output?.inputs ?? {})
      .filter(([, input]) => input.bytesInOutput > 0)
      .map(([path]) => path);
    expect(files.some((path) => path.includes('node_modules/zod/v4/mini/'))).toBe(true);
    expect(files.filter((path) => path.includes('node_modules/zod/v4/classic/'))).toEqual([]);
    for (const name of BUILD_TIME_PACKAGES) {
      expect(files.filter((path) => path.includes(`node_modules/${name}/`))).toEqual([]);
    }
  });
});
