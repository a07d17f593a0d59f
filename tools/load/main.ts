import { writeFileSync } from 'node:fs';
import { EXIT_USAGE, formatSummary, parseLoadArgs, USAGE } from './cli.js';
import { runLoad } from './run.js';

async function main(): Promise<void> {
  let parsed: ReturnType<typeof parseLoadArgs>;
  try {
    parsed = parseLoadArgs(process.argv.slice(2));
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${USAGE}`);
    process.exit(EXIT_USAGE);
  }
  if (parsed.help) {
    console.log(USAGE);
    return;
  }
  const summary = await runLoad(parsed.options, (l) => console.log(l));
  console.log(formatSummary(summary));
  if (parsed.json !== undefined) writeFileSync(parsed.json, `${JSON.stringify(summary, null, 2)}\n`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? `error: ${error.message}` : error);
  process.exit(1);
});
