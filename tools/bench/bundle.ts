import { mkdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type BuildOptions, build } from 'esbuild';

/**
 * The esbuild options `infra-cdk/constructs/ledger-function.ts` gives NodejsFunction, as the CLI
 * arguments aws-cdk-lib's bundler builds from them (aws-lambda-nodejs/lib/bundling.js,
 * `buildEsbuildArgs`): `--bundle --target=node24 --platform=node --format=esm --outfile=index.mjs
 * --minify --sourcemap --sources-content=false --tsconfig=tsconfig.json --banner:js=<shim>
 * --main-fields=module,main`, and no `--external` (bundleAwsSDK: true). Keep it in step with the
 * construct: the bench measures what CDK deploys.
 */
export const CDK_BUNDLING = {
  target: 'node24',
  platform: 'node',
  format: 'esm',
  outFileName: 'index.mjs',
  minify: true,
  sourcemap: true,
  sourcesContent: false,
  mainFields: ['module', 'main'],
  externals: [] as string[],
  /** ESM_REQUIRE_SHIM of ledger-function.ts. */
  banner:
    "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
  tsconfig: 'tsconfig.json',
} as const;

/** The Lambda environment the construct sets besides the function's own variables. */
export const LAMBDA_ENV_FROM_CONSTRUCT = {
  POWERTOOLS_METRICS_NAMESPACE: 'EdgeLedger',
  POWERTOOLS_LOG_LEVEL: 'INFO',
  POWERTOOLS_LOGGER_LOG_EVENT: 'false',
  NODE_OPTIONS: '--enable-source-maps',
  // Set by Lambda itself for loggingFormat JSON and applicationLogLevelV2 INFO.
  AWS_LAMBDA_LOG_FORMAT: 'JSON',
  AWS_LAMBDA_LOG_LEVEL: 'INFO',
} as const;

export interface BundledFunction {
  readonly name: string;
  /** Absolute path of index.mjs. */
  readonly file: string;
  readonly bytes: number;
  readonly sourceMapBytes: number;
}

/** esbuild options for one entry, as CDK would build it, writing `<outDir>/index.mjs`. */
export function cdkBuildOptions(projectRoot: string, entry: string, outDir: string): BuildOptions {
  return {
    absWorkingDir: projectRoot,
    entryPoints: [entry],
    bundle: true,
    target: CDK_BUNDLING.target,
    platform: CDK_BUNDLING.platform,
    format: CDK_BUNDLING.format,
    outfile: join(outDir, CDK_BUNDLING.outFileName),
    minify: CDK_BUNDLING.minify,
    sourcemap: CDK_BUNDLING.sourcemap,
    sourcesContent: CDK_BUNDLING.sourcesContent,
    external: [...CDK_BUNDLING.externals],
    tsconfig: CDK_BUNDLING.tsconfig,
    banner: { js: CDK_BUNDLING.banner },
    mainFields: [...CDK_BUNDLING.mainFields],
    logLevel: 'error',
  };
}

/** Bundles `entry` (relative to the project root) into `<outRoot>/<name>/index.mjs`. */
export async function bundleFunction(
  projectRoot: string,
  name: string,
  entry: string,
  outRoot: string,
): Promise<BundledFunction> {
  const outDir = resolve(outRoot, name);
  mkdirSync(outDir, { recursive: true });
  await build(cdkBuildOptions(projectRoot, entry, outDir));
  const file = join(outDir, CDK_BUNDLING.outFileName);
  return {
    name,
    file,
    bytes: statSync(file).size,
    sourceMapBytes: statSync(`${file}.map`).size,
  };
}
