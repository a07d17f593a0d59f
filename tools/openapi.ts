import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { buildIngestApp, openApiDocument } from '../functions/ingest-api/app.js';
import { loadConfig } from '../shared/config.js';

const DEFAULT_OUT = 'docs/openapi.json';

const HELP = `Usage: npm run openapi -- [--out <file>] [--check]

Writes the OpenAPI 3.1 document of the ingest API (the same one GET /openapi.json serves),
generated from the route schemas. No AWS is needed: the real app is built over placeholder
configuration (creating SDK clients sends nothing; no route is called).

Options:
  --out <file>  where to write it (default: ${DEFAULT_OUT})
  --check       write nothing; exit 1 if <file> is missing or differs from the generated document
  -h, --help    show this help
`;

/** The document as written to disk: stable key order from the routes, two-space indent, final newline. */
function renderOpenApi(): string {
  const app = buildIngestApp(
    loadConfig({ LEDGER_TABLE_NAME: 'openapi', TRANSFER_STREAM_NAME: 'openapi', AWS_REGION: 'us-east-2' }),
  );
  return `${JSON.stringify(openApiDocument(app), null, 2)}\n`;
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      out: { type: 'string', default: DEFAULT_OUT },
      check: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const out = resolve(values.out);
  const document = renderOpenApi();
  if (values.check) {
    const current = await readFile(out, 'utf8').catch(() => undefined);
    if (current === document) return 0;
    process.stderr.write(
      `${values.out} is ${current === undefined ? 'missing' : 'out of date'}: run npm run openapi\n`,
    );
    return 1;
  }
  await mkdir(dirname(out), { recursive: true });
  await writeFile(out, document);
  process.stdout.write(`wrote ${values.out} (${Buffer.byteLength(document)} bytes)\n`);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`openapi: ${error instanceof Error ? error.message : String(error)}\n\n${HELP}`);
    process.exitCode = 2;
  },
);
