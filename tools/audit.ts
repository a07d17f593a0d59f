import { parseArgs } from 'node:util';
import { type AuditorSettings, auditClient, buildAuditService } from '../functions/auditor/auditor.js';
import { RuntimeEnv } from '../shared/config.js';
import { AuditLimitError, auditJson, CHECK_OF, CHECK_TITLES } from '../shared/domain/audit.js';
import {
  AUDIT_DEFAULTS,
  type AuditReport,
  CONCURRENCY_MAX,
  PAGE_SIZE_MAX,
  SEGMENTS_MAX,
} from '../shared/services/audit-service.js';

/** The local stack's names (tools/local/stack.ts, tools/local/start.ts), so it works right after `npm start`. */
const LOCAL_DEFAULTS = {
  tableName: 'edge-ledger-local',
  region: 'us-east-1',
  dynamodbEndpoint: 'http://localhost:8000',
} as const;
const ITEMS_MAX_LIMIT = 100_000_000;
/** Settled in-flight transfers named in the text report (--json has up to IN_FLIGHT_NAMED_MAX). */
const IN_FLIGHT_SHOWN_MAX = 10;
const EXIT = { ok: 0, differences: 1, usage: 2, incomplete: 3 } as const;

const USAGE = `Usage: npm run audit:ledger -- [options]

Audits the whole ledger while traffic flows and exits non-zero on any difference:
  1. ${CHECK_TITLES[1]};
  2. ${CHECK_TITLES[2]};
  3. ${CHECK_TITLES[3]} (HELD transfers debiting the account);
  4. ${CHECK_TITLES[4]};
  5. ${CHECK_TITLES[5]} (such a write is void: it
     never counted; each is named, to be re-submitted or resolved).
Each account is read as one consistent snapshot; a transfer seen half-applied (moving between two
reads) is re-read with consistent reads before it counts as a difference. Clearing accounts are
ordinary accounts; a transfer across home regions is checked step by step (debit, credit leg, result),
and a DEBITED one whose credit is still on its way is in flight, not a difference.

Where (a flag, else the environment, else the local stack of \`npm start\`):
  --table <name>        table (LEDGER_TABLE_NAME; default ${LOCAL_DEFAULTS.tableName})
  --endpoint <url>      DynamoDB endpoint (AWS_ENDPOINT_URL_DYNAMODB, AWS_ENDPOINT_URL; default
                        ${LOCAL_DEFAULTS.dynamodbEndpoint} when no table is named, else AWS itself)
  --region <region>     AWS region (AWS_REGION; default ${LOCAL_DEFAULTS.region})
  --home-region <r>     audit only the accounts homed in this region (default: every account)

Bounds:
  --segments <n>        parallel Scan segments (default ${AUDIT_DEFAULTS.segments}, at most ${SEGMENTS_MAX})
  --page-size <n>       items per Scan/Query request (default ${AUDIT_DEFAULTS.pageSize}, at most ${PAGE_SIZE_MAX})
  --items-max <n>       stop with an error past this many items read (default ${AUDIT_DEFAULTS.itemsMax})
  --concurrency <n>     account partitions read at once (default ${AUDIT_DEFAULTS.concurrency}, at most ${CONCURRENCY_MAX})

Output:
  --json                the report as JSON on stdout (money as decimal strings)
  -h, --help            show this help

Exit status: 0 no difference, 1 differences (named on stdout), 2 bad usage, 3 the audit could not
finish (read bound exceeded, table or endpoint unreachable). If \`npm start\` put DynamoDB Local on
another port than 8000 (it says so), pass --endpoint.`;

class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

interface Cli {
  readonly help: boolean;
  readonly json: boolean;
  readonly settings: AuditorSettings;
  /** How the target was chosen, for the report's first line. */
  readonly source: string;
}

/** Parses argv (without node and script) and the environment. Throws UsageError. */
function parseCli(argv: readonly string[], env: Record<string, string | undefined>): Cli {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: false,
    options: {
      table: { type: 'string' },
      endpoint: { type: 'string' },
      region: { type: 'string' },
      'home-region': { type: 'string' },
      segments: { type: 'string' },
      'page-size': { type: 'string' },
      'items-max': { type: 'string' },
      concurrency: { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const namedTable = values.table ?? env.LEDGER_TABLE_NAME;
  const endpoint = values.endpoint ?? env.AWS_ENDPOINT_URL_DYNAMODB ?? env.AWS_ENDPOINT_URL;
  const local = namedTable === undefined && endpoint === undefined;
  const tableName = checked(
    '--table',
    RuntimeEnv.shape.LEDGER_TABLE_NAME,
    namedTable ?? LOCAL_DEFAULTS.tableName,
  );
  const awsRegion = checked(
    '--region',
    RuntimeEnv.shape.AWS_REGION,
    values.region ?? env.AWS_REGION ?? LOCAL_DEFAULTS.region,
  );
  const dynamodbEndpoint = local ? LOCAL_DEFAULTS.dynamodbEndpoint : endpoint;
  if (dynamodbEndpoint !== undefined)
    checked('--endpoint', RuntimeEnv.shape.AWS_ENDPOINT_URL_DYNAMODB, dynamodbEndpoint);
  const homeRegion = values['home-region'];
  if (homeRegion !== undefined) checked('--home-region', RuntimeEnv.shape.AWS_REGION, homeRegion);
  return {
    help: values.help,
    json: values.json,
    source: local ? ' (local stack defaults)' : '',
    settings: {
      tableName,
      awsRegion,
      dynamodbEndpoint,
      options: {
        segments: integer('--segments', values.segments, AUDIT_DEFAULTS.segments, SEGMENTS_MAX),
        pageSize: integer('--page-size', values['page-size'], AUDIT_DEFAULTS.pageSize, PAGE_SIZE_MAX),
        itemsMax: integer('--items-max', values['items-max'], AUDIT_DEFAULTS.itemsMax, ITEMS_MAX_LIMIT),
        concurrency: integer(
          '--concurrency',
          values.concurrency,
          AUDIT_DEFAULTS.concurrency,
          CONCURRENCY_MAX,
        ),
        homeRegion,
      },
    },
  };
}

function checked(
  name: string,
  schema: { safeParse(v: unknown): { success: boolean } },
  value: string,
): string {
  if (!schema.safeParse(value).success)
    throw new UsageError(`${name}: not a valid value: ${JSON.stringify(value)}`);
  return value;
}

function integer(name: string, raw: string | undefined, fallback: number, max: number): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value < 1 || value > max)
    throw new UsageError(`${name} must be an integer from 1 to ${max}, got "${raw}"`);
  return value;
}

/** The report for a terminal. */
function formatReport(report: AuditReport, target: string): string {
  const c = report.counts;
  const statuses = Object.entries(c.transfersByStatus)
    .map(([status, n]) => `${status} ${n}`)
    .join(', ');
  const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  const lines = [
    `Ledger audit of ${target}${report.homeRegion === null ? '' : `, accounts homed in ${report.homeRegion}`}`,
    `  read       ${c.itemsRead} items (scan ${seconds(report.timingsMs.scan)}, accounts ${seconds(report.timingsMs.accounts)}, re-check ${seconds(report.timingsMs.recheck)})`,
    `  accounts   ${c.accounts} (${c.pages} journal pages, ${c.lines} lines; ${c.accountRereads} re-read, ${c.pagesBeyondSnapshot} pages newer than their snapshot${c.voidPages > 0 ? `, ${c.voidPages} void` : ''}${c.accountsElsewhere > 0 ? `; ${c.accountsElsewhere} homed elsewhere, skipped` : ''})`,
    `  transfers  ${c.transfers}${statuses === '' ? '' : ` (${statuses})`}`,
    `  in flight  ${report.inFlight.suspects} transfer(s) disagreed as first read; ${report.inFlight.settled} settled after ${report.inFlight.rounds} re-check round(s)` +
      named(report.inFlight.settledTransferIds, report.inFlight.settled),
    '  currencies',
    ...report.currencies.map(
      (t) =>
        `    ${t.currency}  ${t.accounts} accounts, total ${t.total}${t.inFlight === 0n ? '' : ` (as read ${t.readTotal}, in flight ${t.inFlight})`}` +
        (t.clearing === undefined
          ? ''
          : `; ${t.clearing.accounts} clearing accounts net ${t.clearing.net} (in flight across regions)`),
    ),
    '  checks',
    ...report.checks.map(
      (k) =>
        `    ${k.check}. ${CHECK_TITLES[k.check].padEnd(62, '.')} ${k.differences === 0 ? 'ok' : `${k.differences} difference(s)`}`,
    ),
  ];
  if (report.ok) return [...lines, `OK: no difference (${seconds(report.timingsMs.total)})`].join('\n');
  return [
    ...lines,
    `DIFFERENCES (${report.differences.length}):`,
    ...report.differences.map((d) => `  [${CHECK_OF[d.kind]}] ${d.kind.padEnd(24)} ${d.message}`),
    `FAILED: ${report.differences.length} difference(s) (${seconds(report.timingsMs.total)})`,
  ].join('\n');
}

/** The first few ids, and how many more. */
function named(ids: readonly string[], total: number): string {
  if (ids.length === 0) return '';
  const shown = ids.slice(0, IN_FLIGHT_SHOWN_MAX);
  return `: ${shown.join(', ')}${total > shown.length ? ` and ${total - shown.length} more` : ''}`;
}

/** Names the usual reasons a run cannot start, instead of an SDK stack trace. */
function explain(error: unknown, cli: Cli): string {
  const e = error as { name?: string; message?: string; code?: string; cause?: { code?: string } };
  const where = `${cli.settings.tableName}${cli.settings.dynamodbEndpoint === undefined ? '' : ` at ${cli.settings.dynamodbEndpoint}`}`;
  if (error instanceof AuditLimitError) return error.message;
  if (e.name === 'ResourceNotFoundException') return `table ${where} does not exist`;
  if ([e.code, e.cause?.code].includes('ECONNREFUSED')) {
    return `cannot reach DynamoDB at ${cli.settings.dynamodbEndpoint ?? 'AWS'}: is the local stack running (npm start)? Else pass --endpoint or --table.`;
  }
  return `audit of ${where} failed: ${e.name ?? 'Error'}: ${e.message ?? String(error)}`;
}

async function main(): Promise<number> {
  let cli: Cli;
  try {
    cli = parseCli(process.argv.slice(2), process.env);
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${USAGE}`);
    return EXIT.usage;
  }
  if (cli.help) {
    console.log(USAGE);
    return EXIT.ok;
  }
  const { settings } = cli;
  const target = `${settings.tableName} at ${settings.dynamodbEndpoint ?? `AWS ${settings.awsRegion}`}${cli.source}`;
  const progress = cli.json ? undefined : (line: string) => console.error(`audit: ${line}`);
  const client = auditClient(settings);
  try {
    const report = await buildAuditService(
      { ...settings, options: { ...settings.options, progress } },
      client,
    ).run();
    console.log(cli.json ? auditJson({ target, ...report }, 2) : formatReport(report, target));
    return report.ok ? EXIT.ok : EXIT.differences;
  } catch (error) {
    console.error(`error: ${explain(error, cli)}`);
    return EXIT.incomplete;
  } finally {
    client.destroy();
  }
}

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error);
    process.exitCode = EXIT.incomplete;
  },
);
