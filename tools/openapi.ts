import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import {
  OPENAPI_JSON_PATH,
  OPENAPI_MODULE_PATH,
  openApiDocument,
  renderOpenApiJson,
  renderOpenApiModule,
} from '../functions/ingest-api/openapi.js';

const HELP = `Usage: npm run openapi -- [--out <file>] [--module <file>] [--check]

Generates the OpenAPI 3.1 document of the ingest API from the route definitions and writes it
twice: as docs/openapi.json, and as the module GET /openapi.json serves (the Lambda never builds
the document itself, so it carries no OpenAPI generator). No AWS is needed: no route is called.

Options:
  --out <file>     the JSON document (default: ${OPENAPI_JSON_PATH})
  --module <file>  the served module (default: ${OPENAPI_MODULE_PATH})
  --check          write nothing; exit 1 if either file is missing or differs from what would be generated
  -h, --help       show this help
`;

interface Output {
  readonly path: string;
  readonly text: string;
}

/** The files as they should be; both from one document. */
function renderOutputs(out: string, module: string): Output[] {
  const document = openApiDocument();
  return [
    { path: out, text: renderOpenApiJson(document) },
    { path: module, text: renderOpenApiModule(document) },
  ];
}

/** The outputs whose file is missing or different, each with what is wrong. */
async function staleOutputs(outputs: readonly Output[]): Promise<string[]> {
  const stale: string[] = [];
  for (const output of outputs) {
    const current = await readFile(resolve(output.path), 'utf8').catch(() => undefined);
    if (current !== output.text)
      stale.push(`${output.path} is ${current === undefined ? 'missing' : 'out of date'}`);
  }
  return stale;
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      out: { type: 'string', default: OPENAPI_JSON_PATH },
      module: { type: 'string', default: OPENAPI_MODULE_PATH },
      check: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const outputs = renderOutputs(values.out, values.module);
  if (values.check) {
    const stale = await staleOutputs(outputs);
    for (const line of stale) process.stderr.write(`${line}: run npm run openapi\n`);
    return stale.length === 0 ? 0 : 1;
  }
  for (const output of outputs) {
    const file = resolve(output.path);
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, output.text);
    process.stdout.write(`wrote ${output.path} (${Buffer.byteLength(output.text)} bytes)\n`);
  }
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
