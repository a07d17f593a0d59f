import { type AttributeValue, type DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { pageFromItem } from '../../shared/adapters/dynamo-codec.js';

/**
 * The ledger audit: reads the whole table (consistent scan) and checks, from stored data alone,
 * that money is conserved and that every transfer took effect at most once. The chaos run calls
 * it at the end; `npm run audit:ledger` will replace it (same question, same answer shape).
 *
 * It relies only on the table layout of docs/ARCHITECTURE.md ("One table"), not on the adapters,
 * except for decoding a journal page (one item per account write, holding that write's lines).
 */
export interface LedgerAuditSource {
  readonly dynamodb: DynamoDBClient;
  readonly tableName: string;
}

export type AuditCheck =
  | 'conservation'
  | 'overdraft'
  | 'balance-vs-postings'
  | 'statement-duplicate'
  | 'version'
  | 'chain'
  | 'posting-entries'
  | 'orphan-entry'
  | 'pending-index';

export interface AuditFinding {
  readonly check: AuditCheck;
  /** The account, transfer or currency concerned. */
  readonly subject: string;
  readonly detail: string;
}

export interface CurrencyTotal {
  readonly currency: string;
  readonly accounts: number;
  /** Sum of every balance in this currency: 0 when money is conserved. */
  readonly sum: bigint;
}

export interface LedgerAudit {
  readonly ok: boolean;
  readonly accounts: number;
  readonly entries: number;
  readonly transfers: {
    readonly accepted: number;
    readonly posted: number;
    readonly rejected: Readonly<Record<string, number>>;
  };
  /** DEAD# items by source. */
  readonly deadLetters: Readonly<Record<string, number>>;
  readonly currencies: readonly CurrencyTotal[];
  /** Accounts whose balance equals the sum of their posted transfers. */
  readonly balancesMatchingPostings: number;
  /** Transfer ids that took effect more than once (statement duplicates or extra entries). */
  readonly doubled: readonly string[];
  readonly findings: readonly AuditFinding[];
}

/** Findings listed in full; past this only the count grows. */
export const AUDIT_FINDINGS_MAX = 200;
const SCAN_PAGES_MAX = 10_000;

export interface AccountRow {
  readonly id: string;
  readonly currency: string;
  readonly balance: bigint;
  readonly overdraftLimit: bigint;
  readonly version: bigint;
}
/** One journal line (a page holds the lines of one write; `version` is the page's, `index` the line's). */
export interface EntryRow {
  readonly accountId: string;
  readonly version: bigint;
  readonly index: number;
  readonly transferId: string;
  readonly direction: string;
  readonly amount: bigint;
  readonly currency: string;
  readonly balanceAfter: bigint;
}
export interface TransferRow {
  readonly id: string;
  readonly status: string;
  readonly reason: string | undefined;
  readonly debitAccountId: string;
  readonly creditAccountId: string;
  readonly amount: bigint;
  readonly currency: string;
  readonly pending: boolean;
}

/** The whole table, grouped: accounts, statement entries per account, transfers, dead letters. */
export interface LedgerSnapshot {
  readonly accounts: Map<string, AccountRow>;
  readonly entries: Map<string, EntryRow[]>;
  readonly transfers: Map<string, TransferRow>;
  readonly deadLetters: Record<string, number>;
}

/**
 * Audits the ledger table. `ok` is true when there is no finding.
 *
 * @example
 * const audit = await auditLedger({ dynamodb, tableName: 'edge-ledger-local' });
 * if (!audit.ok) console.error(audit.findings);
 */
export async function auditLedger(source: LedgerAuditSource): Promise<LedgerAudit> {
  return auditSnapshot(await readLedgerSnapshot(source));
}

/** The checks of {@link auditLedger} over a snapshot already read. */
export function auditSnapshot(tables: LedgerSnapshot): LedgerAudit {
  const findings: AuditFinding[] = [];
  let findingCount = 0;
  const report = (finding: AuditFinding): void => {
    findingCount += 1;
    if (findings.length < AUDIT_FINDINGS_MAX) findings.push(finding);
  };
  const doubled = new Set<string>();
  const currencies = checkConservation(tables, report);
  const balancesMatchingPostings = checkAccounts(tables, report, doubled);
  checkTransfers(tables, report, doubled);
  const rejected: Record<string, number> = {};
  let accepted = 0;
  let posted = 0;
  for (const t of tables.transfers.values()) {
    if (t.status === 'ACCEPTED') accepted += 1;
    else if (t.status === 'POSTED') posted += 1;
    else rejected[t.reason ?? 'unknown'] = (rejected[t.reason ?? 'unknown'] ?? 0) + 1;
  }
  let entries = 0;
  for (const list of tables.entries.values()) entries += list.length;
  return {
    ok: findingCount === 0,
    accounts: tables.accounts.size,
    entries,
    transfers: { accepted, posted, rejected },
    deadLetters: tables.deadLetters,
    currencies,
    balancesMatchingPostings,
    doubled: [...doubled].sort(),
    findings,
  };
}

function checkConservation(tables: LedgerSnapshot, report: (f: AuditFinding) => void): CurrencyTotal[] {
  const totals = new Map<string, { accounts: number; sum: bigint }>();
  for (const a of tables.accounts.values()) {
    const total = totals.get(a.currency) ?? { accounts: 0, sum: 0n };
    totals.set(a.currency, { accounts: total.accounts + 1, sum: total.sum + a.balance });
    if (a.balance < -a.overdraftLimit) {
      report({ check: 'overdraft', subject: a.id, detail: `balance ${a.balance} < -${a.overdraftLimit}` });
    }
  }
  const out = [...totals]
    .map(([currency, t]) => ({ currency, ...t }))
    .sort((a, b) => (a.currency < b.currency ? -1 : 1));
  for (const c of out) {
    if (c.sum !== 0n)
      report({ check: 'conservation', subject: c.currency, detail: `balances sum to ${c.sum}` });
  }
  return out;
}

/** Per account: statement entries, versions, running balances, and the balance against postings. */
function checkAccounts(
  tables: LedgerSnapshot,
  report: (f: AuditFinding) => void,
  doubled: Set<string>,
): number {
  const postedDelta = new Map<string, bigint>();
  for (const t of tables.transfers.values()) {
    if (t.status !== 'POSTED') continue;
    postedDelta.set(t.debitAccountId, (postedDelta.get(t.debitAccountId) ?? 0n) - t.amount);
    postedDelta.set(t.creditAccountId, (postedDelta.get(t.creditAccountId) ?? 0n) + t.amount);
  }
  let matching = 0;
  for (const a of tables.accounts.values()) {
    const entries = [...(tables.entries.get(a.id) ?? [])].sort((x, y) =>
      x.version === y.version ? x.index - y.index : x.version < y.version ? -1 : 1,
    );
    const seen = new Set<string>();
    const pageVersions = [...new Set(entries.map((e) => e.version))];
    pageVersions.forEach((v, i) => {
      // The workload never updates an account (PATCH bumps the version without a page): every
      // version is one page, 1..n, so a page written twice or lost shows here.
      if (v !== BigInt(i + 1)) {
        report({ check: 'version', subject: a.id, detail: `page ${i + 1} has version ${v}` });
      }
    });
    let running = 0n;
    for (const e of entries) {
      // Lines that move the balance; a transfer has at most one of each on one account.
      if (e.direction !== 'DEBIT' && e.direction !== 'CREDIT' && e.direction !== 'CAPTURE') continue;
      const key = `${e.direction}:${e.transferId}`;
      if (seen.has(key)) {
        doubled.add(e.transferId);
        report({
          check: 'statement-duplicate',
          subject: a.id,
          detail: `transfer ${e.transferId} appears twice (${e.direction})`,
        });
      }
      seen.add(key);
      running += e.direction === 'CREDIT' ? e.amount : -e.amount;
      if (e.balanceAfter !== running) {
        report({
          check: 'chain',
          subject: a.id,
          detail: `v${e.version}/${e.index} balanceAfter ${e.balanceAfter} != ${running}`,
        });
      }
      if (e.balanceAfter < -a.overdraftLimit) {
        report({ check: 'overdraft', subject: a.id, detail: `v${e.version} went to ${e.balanceAfter}` });
      }
    }
    if (a.version !== BigInt(pageVersions.length)) {
      report({
        check: 'version',
        subject: a.id,
        detail: `version ${a.version} with ${pageVersions.length} journal pages`,
      });
    }
    if (running !== a.balance) {
      report({ check: 'chain', subject: a.id, detail: `balance ${a.balance} but entries sum to ${running}` });
    }
    const expected = postedDelta.get(a.id) ?? 0n;
    if (expected === a.balance) matching += 1;
    else
      report({
        check: 'balance-vs-postings',
        subject: a.id,
        detail: `balance ${a.balance}, postings ${expected}`,
      });
  }
  return matching;
}

/** Per transfer: a POSTED one has exactly its two entries; nothing else has any; the pending index. */
function checkTransfers(
  tables: LedgerSnapshot,
  report: (f: AuditFinding) => void,
  doubled: Set<string>,
): void {
  const byTransfer = new Map<string, EntryRow[]>();
  for (const list of tables.entries.values()) {
    for (const e of list) pushTo(byTransfer, e.transferId, e);
  }
  for (const [id, entries] of byTransfer) {
    const t = tables.transfers.get(id);
    if (t?.status !== 'POSTED') {
      report({
        check: 'orphan-entry',
        subject: id,
        detail: `${entries.length} entries, transfer ${t?.status ?? 'missing'}`,
      });
    }
  }
  for (const t of tables.transfers.values()) {
    if ((t.status === 'ACCEPTED') !== t.pending) {
      report({
        check: 'pending-index',
        subject: t.id,
        detail: `${t.status} ${t.pending ? 'in' : 'not in'} the pending index`,
      });
    }
    if (t.status !== 'POSTED') continue;
    const entries = byTransfer.get(t.id) ?? [];
    const debits = entries.filter((e) => e.direction === 'DEBIT');
    const credits = entries.filter((e) => e.direction === 'CREDIT');
    if (debits.length > 1 || credits.length > 1) doubled.add(t.id);
    const [debit] = debits;
    const [credit] = credits;
    const exact =
      debits.length === 1 &&
      credits.length === 1 &&
      debit?.accountId === t.debitAccountId &&
      credit?.accountId === t.creditAccountId &&
      debit.amount === t.amount &&
      credit.amount === t.amount &&
      debit.currency === t.currency &&
      credit.currency === t.currency;
    if (!exact) {
      report({
        check: 'posting-entries',
        subject: t.id,
        detail: `${debits.length} debit and ${credits.length} credit entries for ${t.amount} ${t.currency}`,
      });
    }
  }
}

/** Reads the whole table with consistent scans. */
export async function readLedgerSnapshot(source: LedgerAuditSource): Promise<LedgerSnapshot> {
  const tables: LedgerSnapshot = {
    accounts: new Map(),
    entries: new Map(),
    transfers: new Map(),
    deadLetters: {},
  };
  let start: Record<string, AttributeValue> | undefined;
  for (let page = 0; page < SCAN_PAGES_MAX; page++) {
    const out = await source.dynamodb.send(
      new ScanCommand({
        TableName: source.tableName,
        ConsistentRead: true,
        ...(start === undefined ? {} : { ExclusiveStartKey: start }),
      }),
    );
    for (const item of out.Items ?? []) classify(tables, item);
    start = out.LastEvaluatedKey;
    if (start === undefined) return tables;
  }
  throw new RangeError(`table ${source.tableName} has more than ${SCAN_PAGES_MAX} scan pages`);
}

function classify(tables: LedgerSnapshot, item: Record<string, AttributeValue>): void {
  const pk = item.pk?.S ?? '';
  const sk = item.sk?.S ?? '';
  const s = (name: string): string => item[name]?.S ?? '';
  const n = (name: string): bigint => BigInt(item[name]?.N ?? '0');
  if (pk.startsWith('ACCT#') && sk === 'ACCT') {
    const id = s('id');
    tables.accounts.set(id, {
      id,
      currency: s('currency'),
      balance: n('balance'),
      overdraftLimit: n('overdraftLimit'),
      version: n('version'),
    });
  } else if (pk.startsWith('ACCT#') && sk.startsWith('E#')) {
    const page = pageFromItem(item);
    page.lines.forEach((line, index) => {
      const entry: EntryRow = {
        accountId: page.accountId,
        version: page.version,
        index,
        transferId: line.transferId,
        direction: line.type,
        amount: line.amount,
        currency: page.currency,
        balanceAfter: line.balanceAfter,
      };
      pushTo(tables.entries, entry.accountId, entry);
    });
  } else if (pk.startsWith('XFER#')) {
    const id = s('id');
    tables.transfers.set(id, {
      id,
      status: s('status'),
      reason: item.reason?.S,
      debitAccountId: s('debitAccountId'),
      creditAccountId: s('creditAccountId'),
      amount: n('amount'),
      currency: s('currency'),
      pending: item.gsi1pk?.S?.startsWith('PENDING#') === true,
    });
  } else if (pk.startsWith('DEAD#')) {
    const source = pk.slice('DEAD#'.length);
    tables.deadLetters[source] = (tables.deadLetters[source] ?? 0) + 1;
  }
}

function pushTo<T>(map: Map<string, T[]>, key: string, value: T): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [value]);
  else list.push(value);
}
