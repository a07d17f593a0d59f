import type { FaultStats } from './fault-proxy.js';
import type { ChaosReport, RoundRecord } from './run.js';

/** The chaos report as the table `npm run chaos` prints. */

const OK = 'ok';
const VALUE_ALIGN_MAX = 24;
const FAIL = 'FAIL';

type Row = readonly [label: string, value: string, verdict?: string];

export function renderReport(report: ChaosReport): string {
  const o = report.options;
  const lines: string[] = [];
  lines.push(
    `Chaos run: seed ${o.seed}, ${o.clients} clients, ${o.accounts} accounts, ${o.durationSeconds} s of workload, ` +
      `${o.kills} kills, faults "${o.profile}"; took ${(report.durationMs / 1000).toFixed(0)} s`,
  );
  lines.push('', ...table('Workload (HTTP API)', workloadRows(report)));
  lines.push('', ...table('Outcome (after the pipeline drained)', outcomeRows(report)));
  lines.push('', ...table(`Ledger audit: ${report.auditName}`, auditRows(report)));
  lines.push('', ...table('Faults injected', faultRows(report)));
  lines.push('', ...roundsTable(report.rounds));
  if (report.warnings.length > 0) lines.push('', 'Warnings:', ...report.warnings.map((w) => `  - ${w}`));
  if (report.violations.length > 0)
    lines.push('', 'VIOLATIONS:', ...report.violations.map((v) => `  - ${v}`));
  lines.push('', report.ok ? 'RESULT: PASS (0 lost, 0 doubled, ledger conserved)' : 'RESULT: FAIL');
  return lines.join('\n');
}

function workloadRows(r: ChaosReport): Row[] {
  const c = r.counters;
  const s = (key: string) => String(c.status[key] ?? 0);
  const other5xx = Object.entries(c.status)
    .filter(([k]) => /^5\d\d$/.test(k) && k !== '503')
    .reduce((n, [, v]) => n + v, 0);
  return [
    ['transfers sent (distinct ids)', String(r.outcomes.sent)],
    ['requests sent (all routes, resends, retries)', String(c.requests)],
    ['duplicates resent (same id and body)', String(c.duplicatesResent)],
    ['batches (POST /v1/transfers/batch)', String(c.batches)],
    ['answered 202 / 200 / 201', `${s('202')} / ${s('200')} / ${s('201')}`],
    ['answered 503 (resent with the same id)', s('503')],
    ['network errors (stack down; resent)', s('network')],
    ['other 5xx answers', String(other5xx), verdict(other5xx === 0)],
    ['unexpected answers (4xx on valid requests, 5xx)', String(c.unexpected), verdict(c.unexpected === 0)],
    [
      'idempotency probes: 409 / accepted',
      `${c.conflictsAnswered409} / ${c.conflictsAccepted}`,
      verdict(c.conflictsAccepted === 0),
    ],
    [
      'regressions (a final status or version went back)',
      String(c.regressions),
      verdict(c.regressions === 0),
    ],
  ];
}

function outcomeRows(r: ChaosReport): Row[] {
  const o = r.outcomes;
  const rejected: Row[] = Object.entries(o.rejected)
    .sort()
    .map(([reason, n]) => [`rejected: ${reason}`, String(n)]);
  return [
    ['answered 202/200 (distinct transfers)', String(o.accepted)],
    ['posted', String(o.posted)],
    ...rejected,
    ['still ACCEPTED', String(o.stillAccepted), verdict(o.stillAccepted === 0)],
    ['lost (202/200 but never final)', String(o.lost.length), verdict(o.lost.length === 0)],
    ['doubled (applied twice)', String(o.doubled.length), verdict(o.doubled.length === 0)],
    ['must-reject transfers sent', String(o.mustReject)],
    [
      'wrong outcomes (must-reject posted, funding rejected, ...)',
      String(o.wrongOutcomes.length),
      verdict(o.wrongOutcomes.length === 0),
    ],
    ['recorded without any 202 (ambiguous answers), now final', String(o.recordedWithout202)],
    [
      'stored transfer differs from the request / phantom',
      `${o.altered.length} / ${o.phantoms.length}`,
      verdict(o.altered.length + o.phantoms.length === 0),
    ],
    ['never accepted even without faults', String(o.unsettled), verdict(o.unsettled === 0)],
    ['drain time after the last kill', `${(r.drainMs / 1000).toFixed(1)} s`],
  ];
}

function auditRows(r: ChaosReport): Row[] {
  const a = r.audit;
  const byCheck = (check: string) => a.findings.filter((f) => f.check === check).length;
  const currencies: Row[] = a.currencies.map((c) => [
    `conservation ${c.currency}: sum of ${c.accounts} balances`,
    String(c.sum),
    verdict(c.sum === 0n),
  ]);
  return [
    ...currencies,
    [
      'balance = sum of its posted transfers',
      `${a.balancesMatchingPostings}/${a.accounts}`,
      verdict(a.balancesMatchingPostings === a.accounts),
    ],
    [
      'within overdraft limit (balances and every entry)',
      `${byCheck('overdraft')} breaches`,
      verdict(byCheck('overdraft') === 0),
    ],
    [
      'statement: each transfer at most once per account',
      `${byCheck('statement-duplicate')} duplicates`,
      verdict(byCheck('statement-duplicate') === 0),
    ],
    [
      'versions = entries, contiguous; running balances',
      `${byCheck('version') + byCheck('chain')} breaks`,
      verdict(byCheck('version') + byCheck('chain') === 0),
    ],
    [
      'posted transfer = exactly its two entries',
      `${byCheck('posting-entries') + byCheck('orphan-entry')} breaks`,
      verdict(byCheck('posting-entries') + byCheck('orphan-entry') === 0),
    ],
    [
      'pending index matches status',
      `${byCheck('pending-index')} breaks`,
      verdict(byCheck('pending-index') === 0),
    ],
    ['statement entries / accounts', `${a.entries} / ${a.accounts}`],
    [
      'dead letters by source',
      Object.entries(a.deadLetters)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ') || '0',
    ],
    ['audit', a.ok ? 'PASS' : `${a.findings.length} finding(s)`, verdict(a.ok)],
  ];
}

function faultRows(r: ChaosReport): Row[] {
  const kills = r.rounds.flatMap((round) => (round.kill === undefined ? [] : [round.kill]));
  const total = (pick: (s: FaultStats) => number, service: 'dynamodb' | 'kinesis') =>
    r.rounds.reduce((n, round) => n + (round.stats === undefined ? 0 : pick(round.stats[service])), 0);
  const poller = r.rounds.reduce(
    (acc, round) => ({
      failures: acc.failures + (round.stats?.poller.failures ?? 0),
      deadLettered: acc.deadLettered + (round.stats?.poller.deadLettered ?? 0),
    }),
    { failures: 0, deadLettered: 0 },
  );
  return [
    [
      'stack SIGKILLs (all processes of the group)',
      `${kills.length} (${kills.filter((k) => k.mode === 'group' || (k.mode === 'transaction' && !k.inTransaction)).length} group, ` +
        `${kills.filter((k) => k.inTransaction).length} in-transaction, ` +
        `${kills.filter((k) => k.mode === 'orphan').length} orphan, ${kills.filter((k) => k.mode === 'torn').length} torn file)`,
    ],
    ['Kinesis PutRecords entries refused', String(total((s) => s.entriesRefused, 'kinesis'))],
    ['Kinesis calls throttled whole', String(total((s) => s.throttled, 'kinesis'))],
    [
      'Kinesis puts applied but answered 500 (SDK resends: duplicates)',
      String(total((s) => s.ambiguous, 'kinesis')),
    ],
    [
      'GetRecords pages delivered twice (records)',
      `${total((s) => s.pagesRepeated, 'kinesis')} (${total((s) => s.recordsRepeated, 'kinesis')})`,
    ],
    ['DynamoDB calls throttled', String(total((s) => s.throttled, 'dynamodb'))],
    [
      'TransactWriteItems cancelled (TransactionConflict)',
      String(total((s) => s.transactionConflicts, 'dynamodb')),
    ],
    ['DynamoDB writes applied but answered 500', String(total((s) => s.ambiguous, 'dynamodb'))],
    ['calls delayed', String(total((s) => s.delayed, 'dynamodb') + total((s) => s.delayed, 'kinesis'))],
    ['replayed processed records, reversed (batches)', `${r.replay.records} (${r.replay.batches})`],
    [
      'consumer invocations failed / records dead-lettered (poller)',
      `${poller.failures} / ${poller.deadLettered}`,
    ],
  ];
}

function roundsTable(rounds: readonly RoundRecord[]): string[] {
  const header = [
    '#',
    'stack',
    'start',
    'leftovers at start',
    'stream before→after kill',
    'requests',
    'ended by',
  ];
  const rows = rounds.map((r) => [
    String(r.plan.index),
    r.plan.kind === 'plain' ? 'npm start' : `proxied (${r.plan.profile})`,
    `${(r.startupMs / 1000).toFixed(1)} s`,
    leftovers(r),
    r.stream === undefined
      ? '-'
      : `${r.stream.before}→${r.stream.after}${r.stream.missing > 0 ? ` (${r.stream.missing} missing)` : ''}${r.stream.quarantined ? ' quarantined' : ''}`,
    String(r.requests),
    r.kill === undefined
      ? 'Ctrl-C (clean stop)'
      : `SIGKILL ${r.kill.inTransaction ? 'after an applied transaction' : r.kill.mode === 'torn' ? 'group, kinesis file torn' : r.kill.mode}` +
        (r.kill.transactionsInFlight === undefined
          ? ''
          : `, ${r.kill.transactionsInFlight} DynamoDB call(s) in flight`),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  const format = (cells: readonly string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return ['Restarts', `  ${format(header)}`, ...rows.map((row) => `  ${format(row)}`)];
}

function leftovers(r: RoundRecord): string {
  const parts: string[] = [];
  if (r.leftoverEmulators > 0) parts.push(`${r.leftoverEmulators} emulators stopped`);
  if (r.notable.some((l) => /restored the last good copy/.test(l)))
    parts.push('kinesis file restored (last good)');
  else if (r.notable.some((l) => /unreadable/.test(l))) parts.push('kinesis file moved aside');
  if (r.notable.some((l) => /not in the stream any more/.test(l))) parts.push('checkpoint gone: re-read');
  return parts.join(', ') || (r.plan.index === 0 ? 'fresh data dir' : 'lock file only');
}

function table(title: string, rows: readonly Row[]): string[] {
  const width = Math.max(...rows.map(([label]) => label.length));
  // Long values (a list) are left as they are; short ones (numbers) line up on the right.
  const valueWidth = Math.max(
    ...rows.map(([, value]) => (value.length <= VALUE_ALIGN_MAX ? value.length : 0)),
  );
  return [
    title,
    ...rows.map(([label, value, v]) =>
      `  ${label.padEnd(width)}  ${value.padStart(valueWidth)}${v === undefined ? '' : `  ${v}`}`.trimEnd(),
    ),
  ];
}

function verdict(ok: boolean): string {
  return ok ? OK : FAIL;
}
