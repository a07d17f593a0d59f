import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  AUDIT_CHECKS,
  type AuditTransfer,
  auditAccount,
  auditLedger,
  auditTransferOf,
  CHECK_OF,
  CHECK_TITLES,
  checkTransfer,
  DifferenceKind,
  expectedLinesOf,
  type LedgerFindings,
  moneyEffect,
  settleAudit,
} from '../../../shared/domain/audit.js';
import {
  type HoldActionCommand,
  type LedgerCommand,
  openAccountCommand,
  transferCommand,
} from '../../../shared/domain/commands.js';
import {
  type Account,
  accountFingerprint,
  clearingAccountId,
  type JournalPage,
  type Transfer,
  type TransferRequest,
  transferFingerprint,
} from '../../../shared/domain/ledger.js';
import {
  applyWrites,
  type CommandOutcome,
  type LedgerState,
  planBatch,
  type WriteSet,
} from '../../../shared/domain/planner.js';

const NOW = '2026-01-01T00:00:00.000Z';
const EAST = 'us-east-2';
const WEST = 'us-west-2';
/** Emitted commands delivered per drain at most (each cross-region transfer emits two). */
const DELIVERIES_MAX = 1_000;

/**
 * Two home regions writing one table through the real planner. Commands the planner emits for the
 * other region (credit legs, credit results) wait in an outbox until delivered, so every step of a
 * cross-region transfer can be audited. `failover` re-homes a region's accounts as the failover
 * service does; `arrive` lands writes a fenced region made before it failed (replicated late).
 */
class TwoRegions {
  state: LedgerState = { accounts: new Map(), transfers: new Map(), legs: new Map() };
  pages: JournalPage[] = [];
  outbox: LedgerCommand[] = [];

  run(region: string, commands: readonly LedgerCommand[]): CommandOutcome[] {
    const plan = planBatch(commands, this.state, { region, now: NOW });
    expect(plan.forwards).toEqual([]);
    this.land(plan.writes.pages);
    this.state = applyWrites(this.state, plan.writes);
    this.outbox.push(...plan.emits);
    return plan.outcomes;
  }

  /** What a region would write now, without writing it (a write about to be lost with its region). */
  plan(region: string, commands: readonly LedgerCommand[]) {
    return planBatch(commands, this.state, { region, now: NOW });
  }

  /**
   * Lands a lost region's pages, transfers and legs, but not its account items: the failover's
   * re-homing wrote those later, so it wins (last writer wins).
   */
  arrive(writes: WriteSet): void {
    this.land(writes.pages);
    this.state = applyWrites(this.state, {
      accounts: [],
      openedAccounts: [],
      pages: [],
      transfers: writes.transfers,
      legs: writes.legs ?? [],
    });
  }

  /** A page at a version already there replaces it (the store's rule for a void page). */
  private land(pages: readonly JournalPage[]): void {
    const key = (p: JournalPage) => `${p.accountId}#${p.version}`;
    const landing = new Set(pages.map(key));
    this.pages = [...this.pages.filter((p) => !landing.has(key(p))), ...pages];
  }

  open(id: string, home: string, overdraftLimit = 0n): this {
    const spec = { id, currency: 'USD', overdraftLimit };
    expect(this.run(home, [openAccountCommand(spec, home, accountFingerprint(spec), NOW)])).toEqual([
      { status: 'opened' },
    ]);
    return this;
  }

  /** Records the transfer ACCEPTED (as the ingest does) and returns its command. */
  accept(request: Omit<TransferRequest, 'currency'>): LedgerCommand {
    const full: TransferRequest = { currency: 'USD', ...request };
    const accepted: Transfer = {
      ...full,
      fingerprint: transferFingerprint(full),
      acceptedAt: NOW,
      status: 'ACCEPTED',
      revision: 0n,
    };
    this.state = { ...this.state, transfers: new Map(this.state.transfers).set(full.id, accepted) };
    return transferCommand(full, accepted.fingerprint, NOW);
  }

  /** Applies a transfer at its debit account's home. */
  transfer(request: Omit<TransferRequest, 'currency'>): CommandOutcome | undefined {
    return this.run(this.homeOf(request.debitAccountId), [this.accept(request)])[0];
  }

  /** Delivers the next emitted command to its region (a credit leg to the credit home, a result to the debit home). */
  deliverOne(): CommandOutcome | undefined {
    const command = this.outbox.shift();
    if (command === undefined) return undefined;
    if (command.type !== 'credit_leg' && command.type !== 'credit_result')
      throw new Error(`unexpected emit ${command.type}`);
    const home =
      command.type === 'credit_leg'
        ? this.homeOf(command.creditAccountId)
        : this.homeOf(this.state.transfers.get(command.transferId)?.debitAccountId ?? '');
    return this.run(home, [command])[0];
  }

  deliverAll(): void {
    for (let i = 0; i < DELIVERIES_MAX && this.outbox.length > 0; i++) this.deliverOne();
    expect(this.outbox).toEqual([]);
  }

  /** Every account homed in `from` moves to `to`: epoch + 1, version + 1, a fork (the failover service's rule). */
  failover(from: string, to: string): void {
    const accounts = new Map(this.state.accounts);
    for (const a of accounts.values()) {
      if (a.homeRegion !== from) continue;
      const version = a.version + 1n;
      const epoch = a.epoch + 1n;
      accounts.set(a.id, {
        ...a,
        homeRegion: to,
        epoch,
        version,
        forks: [...(a.forks ?? []), { epoch, version, from, to, at: NOW }],
      });
    }
    this.state = { ...this.state, accounts };
  }

  account(id: string): Account {
    const a = this.state.accounts.get(id);
    if (a === undefined) throw new Error(`no account ${id}`);
    return a;
  }

  auditTransfer(id: string): AuditTransfer {
    const t = this.state.transfers.get(id);
    if (t === undefined) throw new Error(`no transfer ${id}`);
    return auditTransferOf(t, this.state.legs?.get(id));
  }

  pagesOf(id: string): JournalPage[] {
    return this.pages.filter((p) => p.accountId === id).sort((x, y) => (x.version < y.version ? -1 : 1));
  }

  /** Every account's audit as it stands, but `snapshots` where given (an account read earlier). */
  audits(snapshots: ReadonlyMap<string, { account: Account; pages: JournalPage[] }> = new Map()) {
    return [...this.state.accounts.values()].map((a) => {
      const read = snapshots.get(a.id);
      return auditAccount(a.id, read?.account ?? a, read?.pages ?? this.pagesOf(a.id));
    });
  }

  /** Every transfer as the audit sees it. */
  auditTransfers(): Map<string, AuditTransfer> {
    return new Map([...this.state.transfers.keys()].map((id) => [id, this.auditTransfer(id)]));
  }

  /** The audit of every account, or of those homed in `home` (what that region's auditor reads). */
  findings(home?: string): LedgerFindings {
    const inHome = (a: Pick<Account, 'homeRegion'>) => home === undefined || a.homeRegion === home;
    const all = [...this.state.accounts.values()];
    const elsewhere = new Set(all.filter((a) => !inHome(a)).map((a) => a.id));
    const audits = this.audits().filter((a) => a.account !== undefined && inHome(a.account));
    const transfers = new Map(
      [...this.auditTransfers()].filter(
        ([, t]) => !elsewhere.has(t.debitAccountId) || !elsewhere.has(t.creditAccountId),
      ),
    );
    return auditLedger(audits, transfers, elsewhere);
  }

  differences(home?: string) {
    return settleAudit(this.findings(home), new Set()).differences;
  }

  private homeOf(id: string): string {
    return this.account(id).homeRegion;
  }
}

/** alice and bank homed in us-east-2, bob and carol in us-west-2. */
function twoRegions(): TwoRegions {
  return new TwoRegions()
    .open('bank', EAST, 1_000_000n)
    .open('alice', EAST)
    .open('bob', WEST)
    .open('carol', WEST);
}

const eastClearing = (accountId: string) => clearingAccountId(EAST, 'USD', accountId);
const westClearing = (accountId: string) => clearingAccountId(WEST, 'USD', accountId);
const shape = (t: AuditTransfer) =>
  expectedLinesOf(t).map((l) => `${l.type} ${l.amount} ${l.accountId} (${l.counterpartyAccountId})`);
const kinds = (ds: readonly { kind: string }[]) => ds.map((d) => d.kind).sort();
const clearingOf = (l: TwoRegions, home?: string) =>
  settleAudit(l.findings(home), new Set()).currencies.find((c) => c.currency === 'USD')?.clearing;

/** Audits clean: the whole ledger, and each region's accounts as its own auditor reads them. */
function expectClean(l: TwoRegions): void {
  expect(l.differences()).toEqual([]);
  expect(l.differences(EAST)).toEqual([]);
  expect(l.differences(WEST)).toEqual([]);
}

describe('a transfer across home regions, step by step', () => {
  it('expects the debit side once debited, the credit side once its leg applied, and audits clean at each step', () => {
    const l = twoRegions();
    l.transfer({ id: 'fund', debitAccountId: 'bank', creditAccountId: 'alice', amount: 500n });
    expect(l.transfer({ id: 'x1', debitAccountId: 'alice', creditAccountId: 'bob', amount: 120n })).toEqual({
      status: 'debited',
    });
    // Step 1: the amount sits in us-east-2's clearing account; the credit leg is on its way.
    const debited = l.auditTransfer('x1');
    expect(debited).toMatchObject({
      status: 'DEBITED',
      creditRegion: WEST,
      clearingAccountId: eastClearing('alice'),
    });
    expect(debited.leg).toBeUndefined();
    expect(shape(debited)).toEqual(['DEBIT 120 alice (bob)', `CREDIT 120 ${eastClearing('alice')} (alice)`]);
    expectClean(l);
    expect(clearingOf(l)).toEqual({ accounts: 1, net: 120n });
    expect(clearingOf(l, WEST)).toBeUndefined();

    // Step 2: applied at the credit's home, from its own clearing account; the result on its way back.
    expect(l.deliverOne()).toEqual({ status: 'credited' });
    const credited = l.auditTransfer('x1');
    expect(credited).toMatchObject({
      status: 'DEBITED',
      leg: { outcome: 'applied', region: WEST, amount: 120n },
    });
    expect(shape(credited)).toEqual([
      'DEBIT 120 alice (bob)',
      `CREDIT 120 ${eastClearing('alice')} (alice)`,
      `DEBIT 120 ${westClearing('bob')} (bob)`,
      'CREDIT 120 bob (alice)',
    ]);
    expectClean(l);
    expect(clearingOf(l)).toEqual({ accounts: 2, net: 0n });
    expect(clearingOf(l, EAST)).toEqual({ accounts: 1, net: 120n });
    expect(clearingOf(l, WEST)).toEqual({ accounts: 1, net: -120n });

    // Step 3: POSTED, no new line.
    expect(l.deliverOne()).toEqual({ status: 'posted' });
    const posted = l.auditTransfer('x1');
    expect(posted.status).toBe('POSTED');
    expect(shape(posted)).toEqual(shape(credited));
    expectClean(l);
    // A POSTED transfer implies its credit leg even when the read did not see the leg item.
    const { leg: _, ...withoutLeg } = posted;
    expect(shape(withoutLeg)).toEqual(shape(posted));
    expect(l.account('bob').balance).toBe(120n);
  });

  it('expects a return when the credit fails: the clearing account pays the debit account back', () => {
    const l = twoRegions();
    l.transfer({ id: 'fund', debitAccountId: 'bank', creditAccountId: 'alice', amount: 500n });
    l.run(WEST, [
      {
        v: 1,
        type: 'update_account',
        accountId: 'carol',
        requestId: 'freeze-carol',
        requestedAt: NOW,
        status: 'FROZEN',
      },
    ]);
    expect(l.transfer({ id: 'x2', debitAccountId: 'alice', creditAccountId: 'carol', amount: 70n })).toEqual({
      status: 'debited',
    });
    expect(l.deliverOne()).toEqual({ status: 'credit_failed', reason: 'account_frozen' });
    expectClean(l);
    expect(l.deliverOne()).toEqual({ status: 'returned', reason: 'account_frozen' });
    const returned = l.auditTransfer('x2');
    expect(returned).toMatchObject({ status: 'RETURNED', leg: { outcome: 'failed' } });
    expect(shape(returned)).toEqual([
      'DEBIT 70 alice (carol)',
      `CREDIT 70 ${eastClearing('alice')} (alice)`,
      `DEBIT 70 ${eastClearing('alice')} (alice)`,
      'RETURN 70 alice (carol)',
    ]);
    // The journal replays the RETURN line (balance up), the transfer's lines pair up, the clearing is back at 0.
    const alice = auditAccount('alice', l.account('alice'), l.pagesOf('alice'));
    expect(alice.differences).toEqual([]);
    expect(alice.lines.map((x) => `${x.type} ${x.transferId}`)).toEqual([
      'CREDIT fund',
      'DEBIT x2',
      'RETURN x2',
    ]);
    expect(moneyEffect({ type: 'RETURN', amount: 70n })).toBe(70n);
    expect(l.account('alice').balance).toBe(500n);
    expectClean(l);
    expect(clearingOf(l)).toEqual({ accounts: 1, net: 0n });
  });

  it('expects HOLD, CAPTURE and the clearing lines for a hold captured across regions', () => {
    const l = twoRegions();
    l.transfer({ id: 'fund', debitAccountId: 'bank', creditAccountId: 'alice', amount: 500n });
    expect(
      l.transfer({
        id: 'h1',
        debitAccountId: 'alice',
        creditAccountId: 'bob',
        amount: 50n,
        holdTimeoutSeconds: 3_600,
      }),
    ).toEqual({ status: 'held' });
    expect(shape(l.auditTransfer('h1'))).toEqual(['HOLD 50 alice (bob)']);
    expectClean(l);
    const capture: HoldActionCommand = {
      v: 1,
      type: 'capture',
      transferId: 'h1',
      debitAccountId: 'alice',
      requestId: 'capture-h1',
      requestedAt: NOW,
      amount: '30',
    };
    expect(l.run(EAST, [capture])).toEqual([{ status: 'captured' }]);
    expect(l.auditTransfer('h1')).toMatchObject({ status: 'DEBITED', capturedAmount: 30n, isHold: true });
    expect(shape(l.auditTransfer('h1'))).toEqual([
      'HOLD 50 alice (bob)',
      'CAPTURE 30 alice (bob)',
      `CREDIT 30 ${eastClearing('alice')} (alice)`,
    ]);
    expectClean(l);
    l.deliverAll();
    expect(l.auditTransfer('h1').status).toBe('POSTED');
    expect(shape(l.auditTransfer('h1'))).toEqual([
      'HOLD 50 alice (bob)',
      'CAPTURE 30 alice (bob)',
      `CREDIT 30 ${eastClearing('alice')} (alice)`,
      `DEBIT 30 ${westClearing('bob')} (bob)`,
      'CREDIT 30 bob (alice)',
    ]);
    expectClean(l);
    expect(l.account('alice')).toMatchObject({ balance: 470n, heldAmount: 0n });
  });

  it('names a credit leg that contradicts the transfer (applied, yet the debit returned)', () => {
    const l = twoRegions();
    l.transfer({ id: 'fund', debitAccountId: 'bank', creditAccountId: 'alice', amount: 500n });
    l.transfer({ id: 'x3', debitAccountId: 'alice', creditAccountId: 'bob', amount: 10n });
    l.deliverAll();
    const posted = l.auditTransfer('x3');
    // Lines of all four steps, as if both had happened: each set nets to zero, so only the leg tells.
    const forged: AuditTransfer = { ...posted, status: 'RETURNED' };
    const lines = [...expectedLinesOf(forged)].map((x) => ({ ...x, currency: 'USD', transferId: 'x3' }));
    const finding = checkTransfer('x3', forged, lines);
    expect(finding).toMatchObject({ kind: DifferenceKind.TRANSFER_LINES_MISMATCH, net: 0n });
    expect(finding?.message).toBe(
      'transfer x3 (RETURNED 10 USD alice -> bob): its credit leg applied at us-west-2, yet the debit was returned',
    );
  });
});

describe('a cross-region transfer in flight', () => {
  /** x1 debited in us-east-2 and credited in us-west-2, its result not yet back. */
  function creditedNotPosted(): TwoRegions {
    const l = twoRegions();
    l.transfer({ id: 'fund', debitAccountId: 'bank', creditAccountId: 'alice', amount: 500n });
    l.transfer({ id: 'x1', debitAccountId: 'alice', creditAccountId: 'bob', amount: 120n });
    l.deliverOne();
    return l;
  }

  it('is consistent, not a suspect, while its credit leg has not been applied', () => {
    const l = twoRegions();
    l.transfer({ id: 'fund', debitAccountId: 'bank', creditAccountId: 'alice', amount: 500n });
    l.transfer({ id: 'x1', debitAccountId: 'alice', creditAccountId: 'bob', amount: 120n });
    expect(l.findings().transferFindings.size).toBe(0);
    expect(l.findings(WEST).transferFindings.size).toBe(0);
  });

  it('settles a DEBITED transfer whose leg the scan missed but whose credit lines were read', () => {
    const l = creditedNotPosted();
    // The scan read the transfer partition before the leg was written; the accounts were read after.
    const { leg: _, ...scanned } = l.auditTransfer('x1');
    const raced = auditLedger(l.audits(), l.auditTransfers().set('x1', scanned));
    expect([...raced.transferFindings.keys()]).toEqual(['x1']);
    const finding = raced.transferFindings.get('x1');
    expect(finding).toMatchObject({ kind: DifferenceKind.TRANSFER_LINES_MISMATCH, net: 0n });
    expect(finding?.message).toBe(
      `transfer x1 (DEBITED 120 USD alice -> bob): unexpected CREDIT 120 on bob (with alice), DEBIT 120 on ${westClearing('bob')} (with bob)`,
    );
    expect(finding?.accountIds).toEqual(
      expect.arrayContaining(['alice', 'bob', eastClearing('alice'), westClearing('bob')]),
    );
    // The re-check reads the transfer with its leg: consistent with step 2, so settled, never reported.
    expect(
      checkTransfer('x1', l.auditTransfer('x1'), raced.linesByTransfer.get('x1') ?? [], raced.scope),
    ).toBeUndefined();
    expect(settleAudit(raced, new Set(['x1'])).differences).toEqual([]);
    // Unsettled (the leg really missing), it would be named.
    expect(kinds(settleAudit(raced, new Set()).differences)).toEqual([
      DifferenceKind.TRANSFER_LINES_MISMATCH,
    ]);
  });

  it('settles a DEBITED transfer read half-applied (its clearing account read before the debit)', () => {
    const l = twoRegions();
    l.transfer({ id: 'fund', debitAccountId: 'bank', creditAccountId: 'alice', amount: 500n });
    l.transfer({ id: 'warm', debitAccountId: 'alice', creditAccountId: 'bob', amount: 1n });
    l.deliverAll();
    const clearing = eastClearing('alice');
    const before = { account: l.account(clearing), pages: l.pagesOf(clearing) };
    l.transfer({ id: 'x1', debitAccountId: 'alice', creditAccountId: 'bob', amount: 120n });
    const findings = auditLedger(l.audits(new Map([[clearing, before]])), l.auditTransfers());
    expect([...findings.transferFindings.keys()]).toEqual(['x1']);
    expect(findings.transferFindings.get('x1')).toMatchObject({
      kind: DifferenceKind.UNPAIRED_TRANSFER,
      net: -120n,
    });
    expect(settleAudit(findings, new Set()).differences.map((d) => d.kind)).toContain(
      DifferenceKind.UNPAIRED_TRANSFER,
    );
    const settled = settleAudit(findings, new Set(['x1']));
    expect(settled.differences).toEqual([]);
    expect(settled.currencies).toEqual([
      expect.objectContaining({ currency: 'USD', readTotal: -120n, inFlight: -120n, total: 0n }),
    ]);
  });

  it('is consistent in each region once credited, the other region checking its own side', () => {
    const l = creditedNotPosted();
    expectClean(l);
    // us-east-2 does not read us-west-2's accounts, so it expects nothing of them.
    expect(l.findings(EAST).scope.covers?.('bob')).toBe(false);
    expect(l.findings(EAST).scope.covers?.(eastClearing('alice'))).toBe(true);
  });
});

describe('writes a failover voided', () => {
  /**
   * us-east-2 debits alice (x9) and fails before the write replicates; us-west-2 takes its accounts
   * over; the lost write arrives later. Returns the ledger and alice's version at the failover point.
   */
  function lostDebit(options: { creditLegSent: boolean }) {
    const l = twoRegions();
    l.transfer({ id: 'fund', debitAccountId: 'bank', creditAccountId: 'alice', amount: 500n });
    l.transfer({ id: 'warm', debitAccountId: 'alice', creditAccountId: 'bob', amount: 1n });
    l.deliverAll();
    const lost = l.plan(EAST, [
      l.accept({ id: 'x9', debitAccountId: 'alice', creditAccountId: 'bob', amount: 80n }),
    ]);
    expect(lost.outcomes).toEqual([{ status: 'debited' }]);
    const forkVersion = l.account('alice').version + 1n;
    l.failover(EAST, WEST);
    l.arrive(lost.writes);
    if (options.creditLegSent) {
      // The leg had left us-east-2 before it failed: us-west-2 applies it; the result stays unsent.
      l.outbox.push(...lost.emits);
      expect(l.deliverOne()).toEqual({ status: 'credited' });
      l.outbox = [];
    }
    return { l, forkVersion };
  }

  it('names each void page and the voided transfer, once each, and counts none of them', () => {
    const { l, forkVersion } = lostDebit({ creditLegSent: false });
    expect(l.auditTransfer('x9')).toMatchObject({
      status: 'DEBITED',
      appliedEpoch: 1n,
      appliedVersion: forkVersion,
    });
    const differences = l.differences();
    expect(kinds(differences)).toEqual([
      DifferenceKind.VOIDED_WRITE,
      DifferenceKind.VOIDED_WRITE,
      DifferenceKind.VOIDED_WRITE,
    ]);
    expect(differences.every((d) => CHECK_OF[d.kind] === 5)).toBe(true);
    const alicePage = differences.find((d) => d.accountId === 'alice' && d.transferIds !== undefined);
    expect(alicePage).toMatchObject({
      version: forkVersion,
      epoch: 1n,
      transferIds: ['x9'],
      currency: 'USD',
    });
    expect(alicePage?.message).toBe(
      `account alice: page ${forkVersion} (transfers x9) written by us-east-2 at epoch 1 after the failover point (version ${forkVersion}): never counted; re-submit or resolve`,
    );
    expect(differences).toContainEqual(
      expect.objectContaining({ accountId: eastClearing('alice'), transferIds: ['x9'], epoch: 1n }),
    );
    const transfer = differences.find((d) => d.transferId === 'x9');
    expect(transfer).toMatchObject({ accountId: 'alice', version: forkVersion, epoch: 1n });
    expect(transfer?.message).toBe(
      `transfer x9 (DEBITED 80 USD alice -> bob): its last write (version ${forkVersion} of alice) written by us-east-2 at epoch 1 after the failover point (version ${forkVersion}): never counted; re-submit or resolve`,
    );
    // Not counted: balances follow the counted journal, every currency sums to zero, nothing unpaired.
    const audit = settleAudit(l.findings(), new Set());
    expect(audit.currencies).toEqual([
      expect.objectContaining({ currency: 'USD', total: 0n, readTotal: 0n }),
    ]);
    expect(l.account('alice').balance).toBe(499n);
    // us-west-2 now homes everything: its own audit says the same.
    expect(kinds(l.differences(WEST))).toEqual(kinds(differences));
    expect(l.differences(EAST)).toEqual([]);
  });

  it('keeps the journal chain through a void page, and counts what the new home writes after it', () => {
    const { l, forkVersion } = lostDebit({ creditLegSent: false });
    expect(
      l.transfer({ id: 'after', debitAccountId: 'alice', creditAccountId: 'carol', amount: 9n }),
    ).toEqual({
      status: 'posted',
    });
    const alice = auditAccount('alice', l.account('alice'), l.pagesOf('alice'));
    expect(alice.voidPages).toBe(1);
    expect(alice.differences.map((d) => d.kind)).toEqual([DifferenceKind.VOIDED_WRITE]);
    expect(alice.lines.map((x) => x.transferId)).toEqual(['fund', 'warm', 'after']);
    expect(alice.version).toBe(forkVersion + 1n);
  });

  it('names a void page beyond the account version (the new home has not written that far)', () => {
    const l = twoRegions();
    l.transfer({ id: 'fund', debitAccountId: 'bank', creditAccountId: 'alice', amount: 500n });
    const y1 = l.accept({ id: 'y1', debitAccountId: 'alice', creditAccountId: 'bank', amount: 5n });
    const y2 = l.accept({ id: 'y2', debitAccountId: 'alice', creditAccountId: 'bank', amount: 6n });
    // Two lost writes of us-east-2: the second lands beyond the version the failover gives alice.
    const first = l.plan(EAST, [y1]);
    const second = planBatch([y2], applyWrites(l.state, first.writes), { region: EAST, now: NOW });
    l.failover(EAST, WEST);
    l.arrive(first.writes);
    l.arrive(second.writes);
    const alice = l.account('alice');
    expect(second.writes.pages.find((p) => p.accountId === 'alice')?.version).toBe(alice.version + 1n);
    const audit = auditAccount('alice', alice, l.pagesOf('alice'));
    expect(audit.voidPages).toBe(2);
    expect(audit.pagesBeyondSnapshot).toBe(0);
    expect(audit.differences.map((d) => d.transferIds)).toEqual([['y1'], ['y2']]);
  });

  it('names a voided debit whose credit leg counted: the credit stands without its debit', () => {
    const { l } = lostDebit({ creditLegSent: true });
    const differences = l.differences();
    const transfer = differences.find((d) => d.transferId === 'x9');
    expect(transfer?.kind).toBe(DifferenceKind.VOIDED_WRITE);
    expect(transfer?.message).toContain(
      'never counted; re-submit or resolve; its credit leg applied at us-west-2 and counted: the credit stands without its debit',
    );
    // Its credit lines are what the leg says: not unpaired, not a mismatch.
    expect(kinds(differences)).not.toContain(DifferenceKind.UNPAIRED_TRANSFER);
    expect(kinds(differences)).not.toContain(DifferenceKind.TRANSFER_LINES_MISMATCH);
    // What is missing shows in the clearing net: us-west-2 paid 80 that no region took.
    expect(clearingOf(l)?.net).toBe(-80n);
  });

  it('names a voided credit leg and does not expect its lines', () => {
    const l = twoRegions();
    l.transfer({ id: 'fund', debitAccountId: 'bank', creditAccountId: 'alice', amount: 500n });
    l.transfer({ id: 'warm', debitAccountId: 'alice', creditAccountId: 'bob', amount: 1n });
    l.deliverAll();
    l.transfer({ id: 'x5', debitAccountId: 'alice', creditAccountId: 'bob', amount: 40n });
    // us-west-2 applies the leg and sends the result, then fails before the leg's write replicates.
    const leg = l.plan(WEST, l.outbox.splice(0));
    expect(leg.outcomes).toEqual([{ status: 'credited' }]);
    const forkVersion = l.account('bob').version + 1n;
    l.failover(WEST, EAST);
    l.arrive(leg.writes);
    l.outbox.push(...leg.emits);
    expect(l.deliverOne()).toEqual({ status: 'posted' });
    const differences = l.differences();
    const transfer = differences.find((d) => d.transferId === 'x5');
    expect(transfer).toMatchObject({
      kind: DifferenceKind.VOIDED_WRITE,
      accountId: 'bob',
      version: forkVersion,
    });
    expect(transfer?.message).toBe(
      `transfer x5 (POSTED 40 USD alice -> bob): its credit leg (version ${forkVersion} of bob) written by us-west-2 at epoch 1 after the failover point (version ${forkVersion}): never counted; re-submit or resolve`,
    );
    expect(kinds(differences)).toEqual([
      DifferenceKind.VOIDED_WRITE,
      DifferenceKind.VOIDED_WRITE,
      DifferenceKind.VOIDED_WRITE,
    ]);
    expect(clearingOf(l)?.net).toBe(40n);
  });

  it('does not count a voided hold as active (check 3 stays quiet)', () => {
    const l = twoRegions();
    l.transfer({ id: 'fund', debitAccountId: 'bank', creditAccountId: 'alice', amount: 500n });
    const lost = l.plan(EAST, [
      l.accept({
        id: 'h9',
        debitAccountId: 'alice',
        creditAccountId: 'bank',
        amount: 5n,
        holdTimeoutSeconds: 60,
      }),
    ]);
    l.failover(EAST, WEST);
    l.arrive(lost.writes);
    expect(l.auditTransfer('h9').status).toBe('HELD');
    const differences = l.differences();
    expect(kinds(differences)).toEqual([DifferenceKind.VOIDED_WRITE, DifferenceKind.VOIDED_WRITE]);
    expect(differences.find((d) => d.transferId === 'h9')).toBeDefined();
  });
});

describe('check numbering', () => {
  it('gives every kind of difference a check that has a title', () => {
    for (const check of Object.values(CHECK_OF)) {
      expect(AUDIT_CHECKS).toContain(check);
      expect(CHECK_TITLES[check].length).toBeLessThanOrEqual(62);
    }
    expect(CHECK_OF[DifferenceKind.VOIDED_WRITE]).toBe(5);
  });
});

describe('audit of what two regions write (property)', () => {
  const ACCOUNTS = { bank: EAST, a: EAST, b: WEST, c: WEST } as const;
  type Id = keyof typeof ACCOUNTS;
  type Op =
    | { kind: 'transfer'; from: Id; to: Id; amount: bigint; hold: boolean }
    | { kind: 'capture'; ref: number; amount: bigint }
    | { kind: 'freeze'; account: Id; frozen: boolean }
    | { kind: 'deliver'; count: number };
  const id = fc.constantFrom(...(Object.keys(ACCOUNTS) as Id[]));
  const op: fc.Arbitrary<Op> = fc.oneof(
    fc.record({
      kind: fc.constant('transfer' as const),
      from: id,
      to: id,
      amount: fc.bigInt({ min: 1n, max: 300n }),
      hold: fc.boolean(),
    }),
    fc.record({
      kind: fc.constant('capture' as const),
      ref: fc.nat(),
      amount: fc.bigInt({ min: 1n, max: 300n }),
    }),
    fc.record({ kind: fc.constant('freeze' as const), account: id, frozen: fc.boolean() }),
    fc.record({ kind: fc.constant('deliver' as const), count: fc.integer({ min: 1, max: 3 }) }),
  );

  it('finds no difference at any point, in the whole ledger or in either region', () => {
    const statuses = new Set<string>();
    fc.assert(
      fc.property(fc.array(op, { maxLength: 30 }), (ops) => {
        const l = new TwoRegions();
        for (const [name, home] of Object.entries(ACCOUNTS))
          l.open(name, home, name === 'bank' ? 1_000_000n : 100n);
        const holds: string[] = [];
        for (const [n, o] of ops.entries()) {
          if (o.kind === 'transfer') {
            const tid = `t${n}`;
            l.transfer({
              id: tid,
              debitAccountId: o.from,
              creditAccountId: o.to,
              amount: o.amount,
              ...(o.hold ? { holdTimeoutSeconds: 3_600 } : {}),
            });
            if (o.hold) holds.push(tid);
          } else if (o.kind === 'capture') {
            const hold = holds[o.ref % Math.max(1, holds.length)];
            const t = hold === undefined ? undefined : l.state.transfers.get(hold);
            if (t === undefined) continue;
            l.run(ACCOUNTS[t.debitAccountId as Id], [
              {
                v: 1,
                type: 'capture',
                transferId: t.id,
                debitAccountId: t.debitAccountId,
                requestId: `capture-${n}`,
                requestedAt: NOW,
                amount: o.amount.toString(),
              },
            ]);
          } else if (o.kind === 'freeze') {
            l.run(ACCOUNTS[o.account], [
              {
                v: 1,
                type: 'update_account',
                accountId: o.account,
                requestId: `freeze-${n}`,
                requestedAt: NOW,
                status: o.frozen ? 'FROZEN' : 'OPEN',
              },
            ]);
          } else {
            for (let i = 0; i < o.count; i++) l.deliverOne();
          }
          expectClean(l);
          for (const t of l.state.transfers.values()) statuses.add(t.status);
        }
        l.deliverAll();
        expectClean(l);
        for (const t of l.state.transfers.values()) statuses.add(t.status);
        expect(clearingOf(l)?.net ?? 0n).toBe(0n);
      }),
      { numRuns: 200 },
    );
    // Not vacuous: the runs went through every step of the protocol.
    expect([...statuses]).toEqual(expect.arrayContaining(['DEBITED', 'POSTED', 'RETURNED', 'HELD']));
  });
});
