import { parseArgs } from 'node:util';
import type { Summary } from '../bench/stats.js';
import type { LoadOptions, LoadSummary } from './run.js';
import { regionOfApiUrl } from './sigv4.js';

export const USAGE = `Usage: npm run load -- --rate R --duration S --accounts N --hot F [options]

An open-loop load generator for the transfer API (local or deployed). Requests are sent on a fixed
clock (R per second) whatever the server does; at most --max-in-flight are outstanding, and a
request that comes due beyond that is dropped and counted (never queued). Every second it prints the
rate, errors, drops, in-flight requests and the schedule's backlog; at the end, accept latency
percentiles (from when each request was due), statuses, and accept-to-posted percentiles of a sample
of transfers followed with GET /v1/transfers/{id} (server timestamps postedAt - acceptedAt).

Options:
  --rate <r>             transfers offered per second (default 10)
  --duration <s>         seconds of load (default 30)
  --accounts <n>         accounts the transfers move money between (default 100)
  --hot <f>              share 0..1 of transfers touching one hot account, half as debit, half as
                         credit (default 0)
  --base-url <url>       API base URL (default http://localhost:3000)
  --setup                first open the treasury, the accounts and the hot account and fund each
                         from the treasury (idempotent: safe to repeat)
  --prefix <p>           account id prefix: <p>-acct-000001.., <p>-hot, <p>-treasury (default load)
  --max-in-flight <n>    outstanding POSTs at most (default 256)
  --sample <f>           share of accepted transfers followed to their final status (default 0.1)
  --max-following <n>    followed transfers polled at once at most (default 64)
  --poll-ms <ms>         first poll delay of a followed transfer, doubling to 2 s (default 100)
  --settle <s>           how long followed transfers may take to finish after the run (default 30)
  --header <k: v>        extra request header, repeatable (e.g. "authorization: Bearer <jwt>" for a
                         JWT-authorized deployment)
  --sigv4                sign requests with SigV4 (execute-api) for an IAM-authorized deployment (the
                         stack's default), with the default AWS credential chain
  --region <r>           region to sign for (default: from an execute-api URL, else AWS_REGION)
  --timeout-ms <ms>      per-request timeout (default 10000)
  --seed <n>             seed of the account choice (default 1)
  --json <file>          also write the summary as JSON
  -h, --help             show this help

Example (local stack from \`npm start\`):
  npm run load -- --setup --rate 50 --duration 30 --accounts 200 --hot 0.1`;

export const EXIT_USAGE = 2;

function number(name: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min || value > max) {
    throw new Error(`${name} must be a number from ${min} to ${max}, got "${raw}"`);
  }
  return value;
}

function headers(list: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const h of list) {
    const at = h.indexOf(':');
    if (at <= 0) throw new Error(`--header must be "name: value", got "${h}"`);
    out[h.slice(0, at).trim().toLowerCase()] = h.slice(at + 1).trim();
  }
  return out;
}

export function parseLoadArgs(argv: readonly string[]): {
  help: boolean;
  options: LoadOptions;
  json?: string;
} {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: false,
    options: {
      rate: { type: 'string' },
      duration: { type: 'string' },
      accounts: { type: 'string' },
      hot: { type: 'string' },
      'base-url': { type: 'string' },
      setup: { type: 'boolean', default: false },
      prefix: { type: 'string' },
      'max-in-flight': { type: 'string' },
      sample: { type: 'string' },
      'max-following': { type: 'string' },
      'poll-ms': { type: 'string' },
      settle: { type: 'string' },
      header: { type: 'string', multiple: true },
      sigv4: { type: 'boolean', default: false },
      region: { type: 'string' },
      'timeout-ms': { type: 'string' },
      seed: { type: 'string' },
      json: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const prefix = values.prefix ?? 'load';
  if (!/^[A-Za-z0-9._:-]{1,40}$/.test(prefix))
    throw new Error('--prefix must be 1-40 characters of A-Z a-z 0-9 . _ : -');
  const baseUrl = values['base-url'] ?? 'http://localhost:3000';
  try {
    new URL(baseUrl);
  } catch {
    throw new Error(`--base-url must be a URL, got "${baseUrl}"`);
  }
  let sigv4Region: string | undefined;
  if (values.sigv4) {
    sigv4Region = values.region ?? regionOfApiUrl(baseUrl) ?? process.env.AWS_REGION;
    if (sigv4Region === undefined)
      throw new Error('--sigv4 needs --region (or an execute-api URL, or AWS_REGION)');
  }
  const options: LoadOptions = {
    baseUrl,
    rate: number('--rate', values.rate, 10, 0.1, 100_000),
    durationS: number('--duration', values.duration, 30, 1, 86_400),
    accounts: Math.round(number('--accounts', values.accounts, 100, 2, 1_000_000)),
    hot: number('--hot', values.hot, 0, 0, 1),
    setup: values.setup,
    prefix,
    maxInFlight: Math.round(number('--max-in-flight', values['max-in-flight'], 256, 1, 100_000)),
    sample: number('--sample', values.sample, 0.1, 0, 1),
    maxFollowing: Math.round(number('--max-following', values['max-following'], 64, 1, 10_000)),
    pollMs: number('--poll-ms', values['poll-ms'], 100, 1, 60_000),
    settleS: number('--settle', values.settle, 30, 0, 3_600),
    headers: headers(values.header ?? []),
    ...(sigv4Region === undefined ? {} : { sigv4Region }),
    requestTimeoutMs: number('--timeout-ms', values['timeout-ms'], 10_000, 1, 120_000),
    seed: Math.round(number('--seed', values.seed, 1, 0, 2 ** 31)),
  };
  return { help: values.help, options, ...(values.json === undefined ? {} : { json: values.json }) };
}

const ms = (v: number) => (Number.isNaN(v) ? '-' : `${v.toFixed(1)} ms`);
const line = (name: string, s: Summary) =>
  `${name.padEnd(26)} n=${String(s.count).padEnd(6)} p50 ${ms(s.p50).padEnd(10)} p90 ${ms(s.p90).padEnd(10)} p99 ${ms(s.p99).padEnd(10)} max ${ms(s.max)}`;

export function formatSummary(s: LoadSummary): string {
  return [
    `--- ${s.baseUrl}: offered ${s.offeredRate}/s for ${s.durationS} s`,
    `planned ${s.planned}, sent ${s.sent}, dropped ${s.dropped} (in-flight bound), accepted ${s.accepted} (${s.acceptedPerSecond.toFixed(1)}/s)`,
    `statuses ${JSON.stringify(s.statuses)}`,
    line('accept (from due time)', s.acceptLatencyMs),
    line('accept (from send)', s.serviceTimeMs),
    line('accept-to-posted (server)', s.acceptToPostedMs),
    line('due-to-final (observed)', s.observedToFinalMs),
    `followed ${s.followed} (skipped ${s.followSkipped}, timed out ${s.followTimedOut}), final ${JSON.stringify(s.finalStatuses)}`,
  ].join('\n');
}
