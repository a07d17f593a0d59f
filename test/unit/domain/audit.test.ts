import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type AuditedAccount,
  AuditLimitError,
  type AuditTransfer,
  auditAccount,
  auditLedger,
  auditTransferOf,
  checkTransfer,
  DifferenceKind,
  expectedLinesOf,
  ReadBudget,
  settleAudit,
} from '../../../shared/domain/audit.js';
import { type LedgerCommand, openAccountCommand, transferCommand } from '../../../shared/domain/commands.js';
import {
  type Account,
  accountFingerprint,
  type JournalLine,
  type JournalPage,
  type LineType,
  type Transfer,
  type TransferRequest,
  transferFingerprint,
} from '../../../shared/domain/ledger.js';
import { applyWrites, type LedgerState, planBatch } from '../../../shared/domain/planner.js';

/**
 * A hand-written ledger (not the planner): each operation writes one journal page per account it
 * touches, with the balance and held amount after each line, and sets the transfer's status.
 */
class HandLedger {
  readonly accounts = new Map<string, AuditedAccount>();
  readonly pages = new Map<string, JournalPage[]>();
  readonly transfers = new Map<string, AuditTransfer>();

  open(id: string, overdraftLimit = 0n, currency = 'USD'): this {
    this.accounts.set(id, {
      id,
      currency,
      balance: 0n,
      heldAmount: 0n,
      overdraftLimit,
      version: 0n,
      homeRegion: 'us-east-2',
    });
    this.pages.set(id, []);
    return this;
  }

  post(
    id: string,
    debit: string,
    credit: string,
    amount: bigint,
    sides: 'both' | 'debit only' = 'both',
  ): this {
    this.write(debit, id, 'DEBIT', amount, credit, -amount, 0n);
    if (sides === 'both') this.write(credit, id, 'CREDIT', amount, debit, amount, 0n);
    return this.transfer(id, debit, credit, amount, 'POSTED', false);
  }

  hold(id: string, debit: string, credit: string, amount: bigint): this {
    this.write(debit, id, 'HOLD', amount, credit, 0n, amount);
    return this.transfer(id, debit, credit, amount, 'HELD', true);
  }

  capture(id: string, amount: bigint): this {
    const t = this.transferOf(id);
    this.write(t.debitAccountId, id, 'CAPTURE', amount, t.creditAccountId, -amount, -t.amount);
    this.write(t.creditAccountId, id, 'CREDIT', amount, t.debitAccountId, amount, 0n);
    this.transfers.set(id, { ...t, status: 'POSTED', capturedAmount: amount });
    return this;
  }

  release(id: string, status: 'VOIDED' | 'EXPIRED' = 'VOIDED'): this {
    const t = this.transferOf(id);
    this.write(t.debitAccountId, id, 'RELEASE', t.amount, t.creditAccountId, 0n, -t.amount);
    this.transfers.set(id, { ...t, status });
    return this;
  }

  /** Changes what the account item says, as an UpdateItem would. */
  tamper(id: string, change: Partial<AuditedAccount>): this {
    this.accounts.set(id, { ...this.accountOf(id), ...change });
    return this;
  }

  findings() {
    const audits = [...this.accounts.keys()].map((id) =>
      auditAccount(id, this.accounts.get(id), this.pages.get(id) ?? []),
    );
    return auditLedger(audits, this.transfers);
  }

  /** Differences with no transfer settled as in flight. */
  differences() {
    return settleAudit(this.findings(), new Set()).differences;
  }

  private write(
    accountId: string,
    transferId: string,
    type: LineType,
    amount: bigint,
    counterparty: string,
    dBalance: bigint,
    dHeld: bigint,
  ) {
    const a = this.accountOf(accountId);
    const after = {
      ...a,
      balance: a.balance + dBalance,
      heldAmount: a.heldAmount + dHeld,
      version: a.version + 1n,
    };
    const line: JournalLine = {
      transferId,
      type,
      amount,
      counterpartyAccountId: counterparty,
      balanceAfter: after.balance,
      heldAfter: after.heldAmount,
    };
    this.accounts.set(accountId, after);
    this.pages.get(accountId)?.push({
      accountId,
      version: after.version,
      currency: a.currency,
      postedAt: '2026-01-01T00:00:00.000Z',
      lines: [line],
    });
  }

  private transfer(
    id: string,
    debit: string,
    credit: string,
    amount: bigint,
    status: 'POSTED' | 'HELD',
    isHold: boolean,
  ): this {
    const currency = this.accountOf(debit).currency;
    this.transfers.set(id, {
      id,
      status,
      debitAccountId: debit,
      creditAccountId: credit,
      amount,
      currency,
      isHold,
    });
    return this;
  }

  private accountOf(id: string): AuditedAccount {
    const a = this.accounts.get(id);
    if (a === undefined) throw new Error(`no account ${id}`);
    return a;
  }

  private transferOf(id: string): AuditTransfer {
    const t = this.transfers.get(id);
    if (t === undefined) throw new Error(`no transfer ${id}`);
    return t;
  }
}

/** Two currencies, every line type, every hold ending, an account in overdraft within its limit. */
function consistentLedger(): HandLedger {
  return new HandLedger()
    .open('bank', 1_000n)
    .open('alice')
    .open('bob')
    .open('eu-1', 500n, 'EUR')
    .open('eu-2', 0n, 'EUR')
    .post('t1', 'bank', 'alice', 300n)
    .post('t2', 'alice', 'bob', 100n)
    .hold('h1', 'alice', 'bob', 50n)
    .capture('h1', 30n)
    .hold('h2', 'bob', 'alice', 20n)
    .release('h2')
    .hold('h3', 'alice', 'bank', 10n)
    .hold('h4', 'bob', 'bank', 5n)
    .release('h4', 'EXPIRED')
    .post('e1', 'eu-1', 'eu-2', 70n);
}

const kinds = (ds: readonly { kind: string }[]) => ds.map((d) => d.kind).sort();

describe('a consistent ledger', () => {
  it('passes all four checks, each currency summing to zero', () => {
    const ledger = consistentLedger();
    const { differences, currencies } = settleAudit(ledger.findings(), new Set());
    expect(differences).toEqual([]);
    expect(currencies).toEqual([
      { currency: 'EUR', accounts: 2, readTotal: 0n, inFlight: 0n, total: 0n },
      { currency: 'USD', accounts: 3, readTotal: 0n, inFlight: 0n, total: 0n },
    ]);
    // The oracle itself: balances moved as written.
    expect(ledger.accounts.get('alice')).toMatchObject({ balance: 170n, heldAmount: 10n });
    expect(ledger.accounts.get('bank')).toMatchObject({ balance: -300n });
  });

  it('replays each journal to the account item, leaving the right holds open', () => {
    const ledger = consistentLedger();
    const alice = auditAccount('alice', ledger.accounts.get('alice'), ledger.pages.get('alice') ?? []);
    expect(alice.differences).toEqual([]);
    expect([...alice.openHolds]).toEqual([['h3', 10n]]);
    expect(alice.lines.map((l) => `${l.type} ${l.transferId}`)).toEqual([
      'CREDIT t1',
      'DEBIT t2',
      'HOLD h1',
      'CAPTURE h1',
      'HOLD h3',
    ]);
  });

  it('passes an account exactly at its overdraft limit (boundary)', () => {
    const ledger = new HandLedger()
      .open('bank', 100n)
      .open('alice')
      .post('t1', 'bank', 'alice', 90n)
      .hold('h1', 'bank', 'alice', 10n);
    expect(ledger.differences()).toEqual([]);
  });
});

describe('a tampered ledger', () => {
  it('names the account whose balance was changed, the amount, and the currency total', () => {
    const ledger = consistentLedger().tamper('bob', { balance: 130n + 100n });
    const differences = ledger.differences();
    expect(differences).toContainEqual(
      expect.objectContaining({
        kind: DifferenceKind.BALANCE_MISMATCH,
        accountId: 'bob',
        currency: 'USD',
        amount: 100n,
      }),
    );
    expect(differences).toContainEqual(
      expect.objectContaining({ kind: DifferenceKind.CURRENCY_TOTAL, currency: 'USD', amount: 100n }),
    );
    expect(differences.find((d) => d.kind === DifferenceKind.BALANCE_MISMATCH)?.message).toBe(
      'account bob: balance 230 but its journal sums to 130 (+100 USD)',
    );
    expect(differences.every((d) => d.accountId === undefined || d.accountId === 'bob')).toBe(true);
  });

  it('names the account whose held amount was changed (journal and active holds)', () => {
    const differences = consistentLedger().tamper('alice', { heldAmount: 15n }).differences();
    expect(differences).toContainEqual(
      expect.objectContaining({ kind: DifferenceKind.HELD_MISMATCH, accountId: 'alice', amount: 5n }),
    );
    expect(differences).toContainEqual(
      expect.objectContaining({ kind: DifferenceKind.ACTIVE_HOLDS_MISMATCH, accountId: 'alice', amount: 5n }),
    );
    expect(kinds(differences)).not.toContain(DifferenceKind.CURRENCY_TOTAL);
  });

  it('names a transfer with one side only, and the currency it throws off', () => {
    // bob's item and journal agree with each other: only the pairing shows the missing CREDIT.
    const ledger = consistentLedger().post('t9', 'alice', 'bob', 40n, 'debit only');
    const differences = ledger.differences();
    expect(kinds(differences)).toEqual([DifferenceKind.CURRENCY_TOTAL, DifferenceKind.UNPAIRED_TRANSFER]);
    expect(differences).toContainEqual(
      expect.objectContaining({
        kind: DifferenceKind.UNPAIRED_TRANSFER,
        transferId: 't9',
        currency: 'USD',
        amount: -40n,
      }),
    );
    expect(differences.find((d) => d.transferId === 't9')?.message).toBe(
      'transfer t9 (POSTED 40 USD alice -> bob): its lines net to -40; missing CREDIT 40 on bob (with alice)',
    );
  });

  it('names an account below its overdraft limit and by how much', () => {
    const ledger = new HandLedger().open('carol', 10n).open('bob').post('t1', 'carol', 'bob', 30n);
    const differences = ledger.differences();
    expect(differences).toEqual([
      expect.objectContaining({
        kind: DifferenceKind.BELOW_LIMIT,
        accountId: 'carol',
        currency: 'USD',
        amount: -20n,
      }),
    ]);
    // Holds count: available = balance - held.
    const held = new HandLedger()
      .open('carol', 10n)
      .open('bob')
      .hold('h1', 'carol', 'bob', 11n)
      .differences();
    expect(held).toEqual([
      expect.objectContaining({ kind: DifferenceKind.BELOW_LIMIT, accountId: 'carol', amount: -1n }),
    ]);
  });

  it('names a broken line chain (a balanceAfter that does not follow)', () => {
    const ledger = consistentLedger();
    const pages = ledger.pages.get('alice') ?? [];
    const second = pages[1] as JournalPage;
    const line = second.lines[0] as JournalLine;
    pages[1] = { ...second, lines: [{ ...line, balanceAfter: line.balanceAfter + 1n }] };
    const audit = auditAccount('alice', ledger.accounts.get('alice'), pages);
    // The changed line does not follow from the one before it, nor the next one from it.
    expect(audit.differences.map((d) => d.message)).toEqual([
      'account alice: page 2 line 0 (DEBIT t2 100) says balance 201 held 0, the line before it implies balance 200 held 0',
      'account alice: page 3 line 0 (HOLD h1 50) says balance 200 held 50, the line before it implies balance 201 held 50',
    ]);
    expect(kinds(audit.differences)).toEqual([DifferenceKind.CHAIN_BREAK, DifferenceKind.CHAIN_BREAK]);
  });

  it('names a capture or release without an open hold, and journal pages without an account', () => {
    const page = (type: LineType, balanceAfter: bigint, heldAfter: bigint): JournalPage => ({
      accountId: 'x',
      version: 1n,
      currency: 'USD',
      postedAt: '2026-01-01T00:00:00.000Z',
      lines: [{ transferId: 'h9', type, amount: 5n, balanceAfter, heldAfter }],
    });
    const account: AuditedAccount = {
      id: 'x',
      currency: 'USD',
      balance: 0n,
      heldAmount: -5n,
      overdraftLimit: 0n,
      version: 1n,
      homeRegion: 'r',
    };
    expect(auditAccount('x', account, [page('RELEASE', 0n, -5n)]).differences).toEqual([
      expect.objectContaining({
        kind: DifferenceKind.CHAIN_BREAK,
        message: 'account x: page 1 line 0 (RELEASE h9 5): no open hold of this transfer',
      }),
      expect.objectContaining({ kind: DifferenceKind.HELD_MISMATCH, accountId: 'x', amount: -5n }),
    ]);
    expect(auditAccount('x', undefined, [page('CREDIT', 5n, 0n)]).differences).toEqual([
      expect.objectContaining({ kind: DifferenceKind.JOURNAL_WITHOUT_ACCOUNT, accountId: 'x' }),
    ]);
  });
});

describe('reads under traffic', () => {
  it('treats pages newer than the account item as after the snapshot, not as differences', () => {
    const ledger = consistentLedger();
    const stale = { ...(ledger.accounts.get('alice') as AuditedAccount) };
    ledger.post('t10', 'bank', 'alice', 1n);
    const audit = auditAccount('alice', { ...stale }, ledger.pages.get('alice') ?? []);
    expect(audit.differences).toEqual([]);
    expect(audit.pagesBeyondSnapshot).toBe(1);
    expect(audit.version).toBe(stale.version);
  });

  it('settles a transfer seen on one side only when its re-check agrees, and adjusts the total', () => {
    const findings = consistentLedger().post('t9', 'alice', 'bob', 40n, 'debit only').findings();
    expect([...findings.transferFindings.keys()]).toEqual(['t9']);
    const settled = settleAudit(findings, new Set(['t9']));
    expect(settled.differences).toEqual([]);
    expect(settled.currencies).toContainEqual({
      currency: 'USD',
      accounts: 3,
      readTotal: -40n,
      inFlight: -40n,
      total: 0n,
    });
  });

  it('settles a hold placed between the transfer scan and the account read', () => {
    const ledger = consistentLedger().hold('h5', 'bob', 'alice', 7n);
    ledger.transfers.set('h5', { ...(ledger.transfers.get('h5') as AuditTransfer), status: 'ACCEPTED' });
    const findings = ledger.findings();
    expect(findings.holdFindings).toEqual([
      { accountId: 'bob', currency: 'USD', heldAmount: 7n, activeHolds: 0n, suspects: ['h5'] },
    ]);
    expect(settleAudit(findings, new Set()).differences.map((d) => d.kind)).toContain(
      DifferenceKind.ACTIVE_HOLDS_MISMATCH,
    );
    expect(settleAudit(findings, new Set(['h5'])).differences).toEqual([]);
  });
});

describe('transfer lines by status', () => {
  const t = (over: Partial<AuditTransfer>): AuditTransfer => ({
    id: 't',
    status: 'POSTED',
    debitAccountId: 'd',
    creditAccountId: 'c',
    amount: 50n,
    currency: 'USD',
    isHold: false,
    ...over,
  });
  const shape = (x: AuditTransfer) => expectedLinesOf(x).map((l) => `${l.type} ${l.amount} ${l.accountId}`);

  it('expects nothing before posting or after a rejection, and the hold lifecycle for holds', () => {
    expect(shape(t({ status: 'ACCEPTED' }))).toEqual([]);
    expect(shape(t({ status: 'REJECTED' }))).toEqual([]);
    expect(shape(t({})).sort()).toEqual(['CREDIT 50 c', 'DEBIT 50 d']);
    expect(shape(t({ status: 'HELD', isHold: true }))).toEqual(['HOLD 50 d']);
    expect(shape(t({ status: 'EXPIRED', isHold: true }))).toEqual(['HOLD 50 d', 'RELEASE 50 d']);
    expect(shape(t({ status: 'POSTED', isHold: true, capturedAmount: 20n }))).toEqual([
      'HOLD 50 d',
      'CAPTURE 20 d',
      'CREDIT 20 c',
    ]);
  });

  it('flags lines that net to zero but disagree with the transfer (wrong amount on both sides)', () => {
    const line = (accountId: string, type: LineType, counterpartyAccountId: string) => ({
      accountId,
      currency: 'USD',
      transferId: 't',
      type,
      amount: 49n,
      counterpartyAccountId,
    });
    const finding = checkTransfer('t', t({}), [line('d', 'DEBIT', 'c'), line('c', 'CREDIT', 'd')]);
    expect(finding).toMatchObject({ kind: DifferenceKind.TRANSFER_LINES_MISMATCH, net: 0n });
    expect(checkTransfer('x', undefined, [line('d', 'DEBIT', 'c')])).toMatchObject({
      kind: DifferenceKind.UNPAIRED_TRANSFER,
      net: -49n,
    });
  });
});

describe('read budget', () => {
  it('stops a run past its bound with a message that says what to do', () => {
    const budget = new ReadBudget(10);
    budget.spend(10);
    expect(() => budget.spend(0)).toThrow(AuditLimitError);
    expect(() => new ReadBudget(5).spend(6)).toThrow(/more than its bound of 5.*--items-max/s);
    expect(() => new ReadBudget(0)).toThrow(RangeError);
  });
});

describe('audit of what the planner writes (property)', () => {
  const NOW = '2026-01-01T00:00:00.000Z';
  const REGION = 'us-east-2';
  const LIMITS: Record<string, [string, bigint]> = {
    bank: ['USD', 1_000_000n],
    a: ['USD', 0n],
    b: ['USD', 50n],
    e: ['EUR', 100n],
    f: ['EUR', 0n],
  };

  type Op =
    | { kind: 'transfer'; from: string; to: string; amount: bigint; hold: boolean }
    | { kind: 'capture'; ref: number; amount?: bigint }
    | { kind: 'void'; ref: number };
  const account = fc.constantFrom(...Object.keys(LIMITS));
  const op: fc.Arbitrary<Op> = fc.oneof(
    fc.record({
      kind: fc.constant('transfer' as const),
      from: account,
      to: account,
      amount: fc.bigInt({ min: 1n, max: 200n }),
      hold: fc.boolean(),
    }),
    fc.record({ kind: fc.constant('capture' as const), ref: fc.nat() }, { requiredKeys: ['kind', 'ref'] }),
    fc.record({
      kind: fc.constant('capture' as const),
      ref: fc.nat(),
      amount: fc.bigInt({ min: 1n, max: 200n }),
    }),
    fc.record({ kind: fc.constant('void' as const), ref: fc.nat() }),
  );

  /** Runs batches of operations through the real planner (several commands per batch: coalesced pages). */
  function plannedLedger(batches: readonly (readonly Op[])[]) {
    let state: LedgerState = { accounts: new Map(), transfers: new Map() };
    const pages: JournalPage[] = [];
    const holds: Transfer[] = [];
    const apply = (commands: readonly LedgerCommand[]) => {
      const { writes } = planBatch(commands, state, { region: REGION, now: NOW });
      pages.push(...writes.pages);
      state = applyWrites(state, writes);
    };
    apply(
      Object.entries(LIMITS).map(([id, [currency, overdraftLimit]]) => {
        const spec = { id, currency, overdraftLimit };
        return openAccountCommand(spec, REGION, accountFingerprint(spec), NOW);
      }),
    );
    let n = 0;
    for (const batch of batches) {
      const commands: LedgerCommand[] = [];
      for (const o of batch) {
        if (o.kind === 'transfer') {
          const request: TransferRequest = {
            id: `t${n++}`,
            debitAccountId: o.from,
            creditAccountId: o.to,
            amount: o.amount,
            currency: LIMITS[o.from]?.[0] ?? 'USD',
            ...(o.hold ? { holdTimeoutSeconds: 3600 } : {}),
          };
          const accepted: Transfer = {
            ...request,
            fingerprint: transferFingerprint(request),
            acceptedAt: NOW,
            status: 'ACCEPTED',
            revision: 0n,
          };
          state = { accounts: state.accounts, transfers: new Map(state.transfers).set(request.id, accepted) };
          if (o.hold) holds.push(accepted);
          commands.push(transferCommand(request, accepted.fingerprint, NOW));
          continue;
        }
        const h = holds[o.ref % Math.max(1, holds.length)];
        if (h === undefined) continue;
        commands.push({
          v: 1,
          type: o.kind,
          transferId: h.id,
          debitAccountId: h.debitAccountId,
          requestId: `${o.kind}:${h.id}:${n++}`,
          requestedAt: NOW,
          ...(o.kind === 'capture' && o.amount !== undefined ? { amount: o.amount.toString() } : {}),
        });
      }
      apply(commands);
    }
    return { state, pages };
  }

  it('finds no difference in any ledger the planner produces', () => {
    const typesSeen = new Set<string>();
    fc.assert(
      fc.property(fc.array(fc.array(op, { minLength: 1, maxLength: 4 }), { maxLength: 25 }), (batches) => {
        const { state, pages } = plannedLedger(batches);
        for (const p of pages) for (const l of p.lines) typesSeen.add(l.type);
        const audits = [...state.accounts.values()].map((a: Account) =>
          auditAccount(
            a.id,
            a,
            pages.filter((p) => p.accountId === a.id).sort((x, y) => (x.version < y.version ? -1 : 1)),
          ),
        );
        const transfers = new Map([...state.transfers.values()].map((t) => [t.id, auditTransferOf(t)]));
        const { differences } = settleAudit(auditLedger(audits, transfers), new Set());
        expect(differences).toEqual([]);
      }),
      { numRuns: 200 },
    );
    // Not vacuous: the runs went through every kind of line.
    expect([...typesSeen].sort()).toEqual(['CAPTURE', 'CREDIT', 'DEBIT', 'HOLD', 'RELEASE']);
  });
});
