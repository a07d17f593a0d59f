import {
  type AtomicGroupCommand,
  accountSpecOf,
  type CreditLegCommand,
  type CreditResultCommand,
  commandIdOf,
  creditLegCommand,
  forwarded,
  HOPS_MAX,
  type HoldActionCommand,
  type LedgerCommand,
  type OpenAccountCommand,
  type TransferCommand,
  transferRequestOf,
  type UpdateAccountCommand,
} from './commands.js';
import {
  ACCOUNT_REQUESTS_REMEMBERED,
  type Account,
  AccountChangeRefusal,
  AccountStatus,
  accountStatusRejection,
  availableBalance,
  CLEARING_OVERDRAFT,
  type CreditLeg,
  clearingAccountId,
  decideTransfer,
  HOLD_TIMEOUT_SECONDS_DEFAULT,
  type JournalLine,
  type JournalPage,
  LineType,
  RejectionReason as Reason,
  type RejectionReason,
  TRANSFER_ACTIONS_MAX,
  type Transfer,
  type TransferAction,
  type TransferRequest,
  TransferStatus,
  transferFingerprint,
} from './ledger.js';

/** What the ledger holds now for the ids a batch touches (a consistent read). */
export interface LedgerState {
  readonly accounts: ReadonlyMap<string, Account>;
  readonly transfers: ReadonlyMap<string, Transfer>;
  /** Credit legs of cross-region transfers whose credit account is homed here. */
  readonly legs?: ReadonlyMap<string, CreditLeg>;
}

/** What happened to one command. Only `unappliable` commands are dead-lettered. */
export type CommandOutcome =
  | {
      readonly status:
        | 'posted'
        | 'held'
        | 'captured'
        | 'released'
        | 'opened'
        | 'updated'
        | 'duplicate'
        | 'ignored'
        /** Cross-region step 1: debited here, the credit sent to the credit account's home. */
        | 'debited'
        /** Cross-region step 2: credited here (or `credit_failed` with a reason). */
        | 'credited'
        | 'credit_failed'
        /** Cross-region step 3 for a failed credit: the debit given back. */
        | 'returned'
        /** Not homed here: sent on to the account's home region. */
        | 'forwarded';
      readonly reason?: string;
    }
  | { readonly status: 'rejected'; readonly reason: string }
  | { readonly status: 'unappliable'; readonly reason: string };

/**
 * Everything one batch changes, to be written in one conditional transaction: each touched account
 * once (conditioned on the version read), one journal page per account that got lines, each
 * touched transfer once (conditioned on the revision read), and accounts opened by the batch.
 */
export interface WriteSet {
  readonly accounts: readonly { readonly before: Account; readonly after: Account }[];
  readonly openedAccounts: readonly Account[];
  readonly pages: readonly JournalPage[];
  readonly transfers: readonly { readonly before: Transfer; readonly after: Transfer }[];
  /** New credit legs (written once; `before` only when replacing a leg voided by a failover). */
  readonly legs?: readonly { readonly before?: CreditLeg; readonly after: CreditLeg }[];
}

export function writeSetSize(w: WriteSet): number {
  return (
    w.accounts.length + w.openedAccounts.length + w.pages.length + w.transfers.length + (w.legs?.length ?? 0)
  );
}

/** A plan: outcomes, the one transaction, and the commands to send once it is committed. */
export interface Plan {
  readonly outcomes: CommandOutcome[];
  readonly writes: WriteSet;
  /** To other regions after the commit (credit legs, credit results); at-least-once, idempotent. */
  readonly emits: readonly LedgerCommand[];
  /** Commands for accounts homed elsewhere, sent on unchanged (one hop more); must be sent before acking. */
  readonly forwards: readonly LedgerCommand[];
}

export interface PlanContext {
  /** Region this consumer writes as: it never writes an account homed elsewhere. */
  readonly region: string;
  /** The time the batch is applied (ISO 8601): postings, hold expiries, timestamps. */
  readonly now: string;
}

/**
 * Applies commands in order to a working copy of the state and returns each command's outcome
 * and the writes. Applying a batch at once gives every command exactly the outcome it would have
 * had alone, in order (the working copy carries each effect to the next command); the writes are
 * merely coalesced: one per account and per transfer, whatever the number of commands.
 */
export function planBatch(
  commands: readonly LedgerCommand[],
  state: LedgerState,
  context: PlanContext,
): Plan {
  const book = new Book(state, context);
  const outcomes = commands.map((c) => book.apply(c));
  return { outcomes, writes: book.writes(), emits: book.emits, forwards: book.forwards };
}

/** The working copy: current values, what changed, and the lines each account got. */
class Book {
  private accounts: Map<string, Account>;
  private transfers: Map<string, Transfer>;
  private lines: Map<string, JournalLine[]>;
  private opened: Set<string>;
  private legs: Map<string, CreditLeg>;
  readonly emits: LedgerCommand[] = [];
  readonly forwards: LedgerCommand[] = [];

  constructor(
    private readonly state: LedgerState,
    private readonly context: PlanContext,
  ) {
    this.accounts = new Map(state.accounts);
    this.transfers = new Map(state.transfers);
    this.legs = new Map(state.legs);
    this.lines = new Map();
    this.opened = new Set();
  }

  apply(command: LedgerCommand): CommandOutcome {
    switch (command.type) {
      case 'credit_leg':
        return this.creditLeg(command);
      case 'credit_result':
        return this.creditResult(command);
      case 'transfer':
        return this.applyTransferCommand(command);
      case 'atomic_group':
        return this.applyGroup(command);
      case 'open_account':
        return this.openAccount(command);
      case 'update_account':
        return this.updateAccount(command);
      default:
        return this.holdAction(command);
    }
  }

  writes(): WriteSet {
    const now = this.context.now;
    const accounts: { before: Account; after: Account }[] = [];
    const openedAccounts: Account[] = [];
    const pages: JournalPage[] = [];
    for (const [id, current] of this.accounts) {
      const before = this.state.accounts.get(id);
      const lines = this.lines.get(id) ?? [];
      if (this.opened.has(id)) {
        const after = { ...current, version: lines.length > 0 ? 1n : 0n };
        openedAccounts.push(after);
        if (lines.length > 0) pages.push(page(after, now, lines));
        continue;
      }
      if (before === undefined || current === before) continue;
      const after = { ...current, version: before.version + 1n, updatedAt: now };
      accounts.push({ before, after });
      if (lines.length > 0) pages.push(page(after, now, lines));
    }
    const transfers: { before: Transfer; after: Transfer }[] = [];
    for (const [id, current] of this.transfers) {
      const before = this.state.transfers.get(id);
      if (before === undefined || current === before) continue;
      transfers.push({
        before,
        after: { ...current, revision: before.revision + 1n, ...this.stamp(current.debitAccountId) },
      });
    }
    const legs: { before?: CreditLeg; after: CreditLeg }[] = [];
    for (const [id, current] of this.legs) {
      const before = this.state.legs?.get(id);
      if (current === before) continue;
      legs.push({
        ...(before === undefined ? {} : { before }),
        after: { ...current, ...this.stamp(current.creditAccountId) },
      });
    }
    assertConserved(accounts, openedAccounts);
    return { accounts, openedAccounts, pages, transfers, legs };
  }

  /** Where an account stands after this batch, if the batch writes it: the recovery point of a record. */
  private stamp(accountId: string): { appliedEpoch?: bigint; appliedVersion?: bigint } {
    if (!this.lines.has(accountId)) return {};
    const current = this.accounts.get(accountId);
    if (current === undefined) return {};
    const before = this.state.accounts.get(accountId);
    return { appliedEpoch: current.epoch, appliedVersion: before === undefined ? 1n : before.version + 1n };
  }

  // ---- transfers -------------------------------------------------------------------------

  private applyTransferCommand(command: TransferCommand): CommandOutcome {
    const request = transferRequestOf(command.transfer);
    const current = this.transfers.get(request.id);
    const check = this.checkRecorded(current, request);
    if (check !== undefined || current === undefined)
      return check ?? unappliable('transfer was never recorded');
    if (current.status !== TransferStatus.ACCEPTED) {
      // Redelivered while its credit is still on the way: send the credit leg again (idempotent there).
      if (current.status === TransferStatus.DEBITED) this.emitCreditLeg(current);
      return { status: 'duplicate' };
    }
    // A leg of an atomic batch only ever applies with its group. A plain command for it comes from
    // the reconciler (the group's own command never reached the stream, or is late): the group can
    // no longer apply as a unit, so the leg is rejected, and so will its group be (see applyGroup).
    if (current.groupId !== undefined) return this.rejectTransfer(current, Reason.LINKED_TRANSFER_FAILED);
    return this.applyTransfer(current, request, command);
  }

  /**
   * The body to apply must be the one accepted: its fingerprint is recomputed from the body itself
   * (not taken from the record), so a record with an altered amount cannot apply.
   */
  private checkRecorded(current: Transfer | undefined, request: TransferRequest): CommandOutcome | undefined {
    if (current === undefined) return unappliable('transfer was never recorded as accepted');
    if (current.fingerprint !== transferFingerprint(request)) {
      return unappliable('record does not match the accepted transfer (fingerprint)');
    }
    return undefined;
  }

  /** Posts, holds or rejects one ACCEPTED transfer against the working copy. */
  private applyTransfer(
    current: Transfer,
    request: TransferRequest,
    command?: LedgerCommand,
  ): CommandOutcome {
    const debit = this.accounts.get(request.debitAccountId);
    const credit = this.accounts.get(request.creditAccountId);
    if (debit !== undefined && debit.homeRegion !== this.context.region && command !== undefined) {
      return this.forward(command, debit.homeRegion);
    }
    if (request.reversalOf !== undefined && !this.canReverse(request)) {
      return this.rejectTransfer(current, Reason.TRANSFER_NOT_REVERSIBLE);
    }
    const decision = decideTransfer(request, debit, credit, this.context.region);
    if (decision.outcome === 'not_home') {
      return unappliable(`account ${decision.accountId} is homed in ${decision.homeRegion}`);
    }
    if (decision.outcome === 'reject') return this.rejectTransfer(current, decision.reason);
    if (debit === undefined || credit === undefined) throw new Error('decided without both accounts');
    if (request.holdTimeoutSeconds !== undefined) return this.hold(current, debit);
    if (decision.outcome === 'post_cross_region') {
      // A reversal marks its original, which the other region owns: not across regions.
      if (request.reversalOf !== undefined)
        return this.rejectTransfer(current, Reason.TRANSFER_NOT_REVERSIBLE);
      this.debitToClearing(current, debit, request.amount, LineType.DEBIT, 0n);
      this.transfers.set(current.id, this.debited(current, decision.creditRegion));
      this.emitCreditLeg(this.transfers.get(current.id) ?? current);
      return { status: 'debited' };
    }
    this.move(request.id, debit, credit, request.amount, LineType.DEBIT);
    this.transfers.set(current.id, { ...current, status: TransferStatus.POSTED, postedAt: this.context.now });
    if (request.reversalOf !== undefined) this.markReversed(request.reversalOf, request.id);
    return { status: 'posted' };
  }

  private rejectTransfer(current: Transfer, reason: RejectionReason): CommandOutcome {
    this.transfers.set(current.id, {
      ...current,
      status: TransferStatus.REJECTED,
      reason,
      rejectedAt: this.context.now,
    });
    return { status: 'rejected', reason };
  }

  /** A reversal needs its original POSTED, reversed by nobody else, and moving the same amount back. */
  private canReverse(request: TransferRequest): boolean {
    const original = request.reversalOf === undefined ? undefined : this.transfers.get(request.reversalOf);
    if (original === undefined || original.status !== TransferStatus.POSTED) return false;
    if (original.reversedBy !== undefined && original.reversedBy !== request.id) return false;
    const posted = original.capturedAmount ?? original.amount;
    return (
      original.creditAccountId === request.debitAccountId &&
      original.debitAccountId === request.creditAccountId &&
      posted === request.amount &&
      original.currency === request.currency
    );
  }

  private markReversed(originalId: string, reversalId: string): void {
    const original = this.transfers.get(originalId);
    if (original !== undefined) this.transfers.set(originalId, { ...original, reversedBy: reversalId });
  }

  private hold(current: Transfer, debit: Account): CommandOutcome {
    const amount = current.amount;
    const seconds = current.holdTimeoutSeconds ?? HOLD_TIMEOUT_SECONDS_DEFAULT;
    const after = { ...debit, heldAmount: debit.heldAmount + amount };
    this.setAccount(after, {
      transferId: current.id,
      type: LineType.HOLD,
      amount,
      counterpartyAccountId: current.creditAccountId,
    });
    const expiresAt = new Date(Date.parse(this.context.now) + seconds * 1000).toISOString();
    this.transfers.set(current.id, {
      ...current,
      status: TransferStatus.HELD,
      heldAt: this.context.now,
      holdExpiresAt: expiresAt,
    });
    return { status: 'held' };
  }

  /** Moves `amount` from debit to credit with one line on each side. */
  private move(
    transferId: string,
    debit: Account,
    credit: Account,
    amount: bigint,
    debitLine: LineType,
    released = 0n,
  ): void {
    const debitAfter = { ...debit, balance: debit.balance - amount, heldAmount: debit.heldAmount - released };
    this.setAccount(debitAfter, { transferId, type: debitLine, amount, counterpartyAccountId: credit.id });
    const creditNow = this.accounts.get(credit.id) ?? credit;
    const creditAfter = { ...creditNow, balance: creditNow.balance + amount };
    this.setAccount(creditAfter, {
      transferId,
      type: LineType.CREDIT,
      amount,
      counterpartyAccountId: debit.id,
    });
  }

  // ---- atomic groups ---------------------------------------------------------------------

  /**
   * Applies the legs in order on a copy; if every leg posts, the copy becomes the book, else the
   * book is left as it was and every leg is REJECTED (the failing one with its own reason).
   */
  private applyGroup(command: AtomicGroupCommand): CommandOutcome {
    const legs = command.legs.map((l) => ({ leg: l, current: this.transfers.get(l.transfer.id) }));
    for (const { leg, current } of legs) {
      const check = this.checkRecorded(current, transferRequestOf(leg.transfer));
      if (check !== undefined) return check;
    }
    if (legs.every(({ current }) => current?.status !== TransferStatus.ACCEPTED))
      return { status: 'duplicate' };
    const first = this.accounts.get(command.legs[0]?.transfer.debitAccountId ?? '');
    if (first !== undefined && first.homeRegion !== this.context.region)
      return this.forward(command, first.homeRegion);
    const elsewhere = command.legs
      .flatMap((l) => [l.transfer.debitAccountId, l.transfer.creditAccountId])
      .some((id) => {
        const a = this.accounts.get(id);
        return a !== undefined && a.homeRegion !== this.context.region;
      });
    if (elsewhere) {
      for (const { current } of legs) {
        if (current?.status === TransferStatus.ACCEPTED)
          this.rejectTransfer(current, Reason.CROSS_REGION_GROUP);
      }
      return { status: 'rejected', reason: Reason.CROSS_REGION_GROUP };
    }
    // Some legs already final (rejected on their own, see above): never apply a subset.
    if (legs.some(({ current }) => current?.status !== TransferStatus.ACCEPTED)) {
      for (const { current } of legs) {
        if (current?.status === TransferStatus.ACCEPTED)
          this.rejectTransfer(current, Reason.LINKED_TRANSFER_FAILED);
      }
      return { status: 'rejected', reason: Reason.LINKED_TRANSFER_FAILED };
    }
    const saved = this.snapshot();
    let failure: { index: number; reason: string } | undefined;
    for (const [index, { leg, current }] of legs.entries()) {
      if (current === undefined || current.status !== TransferStatus.ACCEPTED) continue;
      const outcome = this.applyTransfer(current, transferRequestOf(leg.transfer));
      if (outcome.status === 'unappliable') {
        this.restore(saved);
        return outcome;
      }
      if (outcome.status !== 'posted') {
        failure = { index, reason: outcome.reason ?? outcome.status };
        break;
      }
    }
    if (failure === undefined) return { status: 'posted' };
    this.restore(saved);
    for (const [index, { current }] of legs.entries()) {
      if (current === undefined) continue;
      const reason =
        index === failure.index ? (failure.reason as RejectionReason) : Reason.LINKED_TRANSFER_FAILED;
      this.rejectTransfer(current, reason);
    }
    return { status: 'rejected', reason: failure.reason };
  }

  // ---- holds -----------------------------------------------------------------------------

  private holdAction(command: HoldActionCommand): CommandOutcome {
    const current = this.transfers.get(command.transferId);
    if (current === undefined) return unappliable(`${commandIdOf(command)}: unknown transfer`);
    const home = this.accounts.get(current.debitAccountId)?.homeRegion;
    if (home !== undefined && home !== this.context.region) return this.forward(command, home);
    // Only an applied action is final; an ignored one (say, a capture that arrived before its hold)
    // may be retried with the same request id and apply once the hold is there.
    if (current.actions?.[command.requestId]?.outcome === 'applied') {
      // A capture across regions redelivered while its credit is on the way: send the leg again.
      if (current.status === TransferStatus.DEBITED) this.emitCreditLeg(current);
      return { status: 'duplicate' };
    }
    const expired = current.status === TransferStatus.HELD && this.isPastTimeout(current);
    if (current.status !== TransferStatus.HELD || (expired && command.type !== 'expire')) {
      if (expired)
        this.release(current, TransferStatus.EXPIRED, {
          requestId: expireRequestId(current.id),
          action: 'expire',
        });
      return this.ignore(command, 'hold_not_active');
    }
    if (command.type === 'expire') {
      // Not due yet (a clock skew between sweeper and consumer): nothing recorded, so the sweeper's
      // next expire, with the same request id, still applies.
      if (!expired) return { status: 'ignored', reason: 'hold_not_expired' };
      this.release(current, TransferStatus.EXPIRED, { requestId: command.requestId, action: 'expire' });
      return { status: 'released' };
    }
    if (command.type === 'void') {
      this.release(current, TransferStatus.VOIDED, { requestId: command.requestId, action: 'void' });
      return { status: 'released' };
    }
    return this.capture(current, command);
  }

  private capture(current: Transfer, command: HoldActionCommand): CommandOutcome {
    const amount = command.amount === undefined ? current.amount : BigInt(command.amount);
    if (amount > current.amount) return this.ignore(command, 'amount_exceeds_hold');
    const debit = this.accounts.get(current.debitAccountId);
    const credit = this.accounts.get(current.creditAccountId);
    if (debit === undefined || credit === undefined) return this.ignore(command, Reason.ACCOUNT_NOT_FOUND);
    const blocked = accountStatusRejection(debit) ?? accountStatusRejection(credit);
    if (blocked !== undefined) return this.ignore(command, blocked);
    if (credit.currency !== current.currency) return this.ignore(command, Reason.CURRENCY_MISMATCH);
    if (credit.homeRegion !== this.context.region) {
      this.debitToClearing(current, debit, amount, LineType.CAPTURE, current.amount);
      const debited = {
        ...this.debited(current, credit.homeRegion),
        capturedAmount: amount,
        actions: withAction(current.actions, command.requestId, this.action('capture', 'applied')),
      };
      this.transfers.set(current.id, debited);
      this.emitCreditLeg(debited);
      return { status: 'captured' };
    }
    this.move(current.id, debit, credit, amount, LineType.CAPTURE, current.amount);
    this.transfers.set(current.id, {
      ...current,
      status: TransferStatus.POSTED,
      postedAt: this.context.now,
      capturedAmount: amount,
      actions: withAction(current.actions, command.requestId, this.action('capture', 'applied')),
    });
    return { status: 'captured' };
  }

  /** Ends a hold without moving money: heldAmount down, one RELEASE line. */
  private release(
    current: Transfer,
    status: typeof TransferStatus.VOIDED | typeof TransferStatus.EXPIRED,
    by: { requestId: string; action: TransferAction['action'] },
  ): void {
    const debit = this.accounts.get(current.debitAccountId);
    // A HELD transfer's debit account exists (accounts are never deleted): its absence is corruption.
    if (debit === undefined)
      throw new Error(`hold ${current.id}: debit account ${current.debitAccountId} missing`);
    this.setAccount(
      { ...debit, heldAmount: debit.heldAmount - current.amount },
      {
        transferId: current.id,
        type: LineType.RELEASE,
        amount: current.amount,
        counterpartyAccountId: current.creditAccountId,
      },
    );
    this.transfers.set(current.id, {
      ...current,
      status,
      releasedAt: this.context.now,
      actions: withAction(current.actions, by.requestId, this.action(by.action, 'applied')),
    });
  }

  /** A hold action that finds nothing to do is recorded in the transfer's history, once. */
  private ignore(command: HoldActionCommand, reason: string): CommandOutcome {
    const current = this.transfers.get(command.transferId);
    if (current !== undefined) {
      this.transfers.set(current.id, {
        ...current,
        actions: withAction(current.actions, command.requestId, this.action(command.type, 'ignored', reason)),
      });
    }
    return { status: 'ignored', reason };
  }

  private action(
    action: TransferAction['action'],
    outcome: TransferAction['outcome'],
    reason?: string,
  ): TransferAction {
    return { action, at: this.context.now, outcome, ...(reason === undefined ? {} : { reason }) };
  }

  private isPastTimeout(t: Transfer): boolean {
    return t.holdExpiresAt !== undefined && t.holdExpiresAt <= this.context.now;
  }

  // ---- accounts --------------------------------------------------------------------------

  private openAccount(command: OpenAccountCommand): CommandOutcome {
    if (command.account.homeRegion !== this.context.region)
      return this.forward(command, command.account.homeRegion);
    if (this.accounts.has(command.account.id)) return { status: 'duplicate' };
    const spec = accountSpecOf(command);
    this.accounts.set(spec.id, {
      ...spec,
      balance: 0n,
      heldAmount: 0n,
      status: AccountStatus.OPEN,
      version: 0n,
      homeRegion: command.account.homeRegion,
      epoch: 1n,
      fingerprint: command.fingerprint,
      createdAt: command.requestedAt,
      updatedAt: command.requestedAt,
    });
    this.opened.add(spec.id);
    return { status: 'opened' };
  }

  /** Limits and status, ordered with the account's own debits (same partition). */
  private updateAccount(command: UpdateAccountCommand): CommandOutcome {
    const account = this.accounts.get(command.accountId);
    if (account === undefined) return unappliable(`${commandIdOf(command)}: unknown account`);
    if (account.homeRegion !== this.context.region) return this.forward(command, account.homeRegion);
    if (
      account.lastRequest?.requestId === command.requestId ||
      account.recentRequestIds?.includes(command.requestId)
    ) {
      return { status: 'duplicate' };
    }
    const recentRequestIds = [...(account.recentRequestIds ?? []), command.requestId].slice(
      -ACCOUNT_REQUESTS_REMEMBERED,
    );
    const refusal = refuseChange(account, command);
    if (refusal !== undefined) {
      this.accounts.set(account.id, {
        ...account,
        recentRequestIds,
        lastRequest: { requestId: command.requestId, outcome: 'refused', reason: refusal },
      });
      return { status: 'rejected', reason: refusal };
    }
    this.accounts.set(account.id, {
      ...account,
      recentRequestIds,
      ...(command.status === undefined ? {} : { status: command.status }),
      ...(command.overdraftLimit === undefined ? {} : { overdraftLimit: BigInt(command.overdraftLimit) }),
      lastRequest: { requestId: command.requestId, outcome: 'applied' },
    });
    return { status: 'updated' };
  }

  // ---- across regions --------------------------------------------------------------------

  /** Sends a command on to the region its account is homed in (bounded hops, no ping-pong). */
  private forward(command: LedgerCommand, home: string): CommandOutcome {
    if ((command.hops ?? 0) >= HOPS_MAX) {
      return unappliable(`${commandIdOf(command)}: homed in ${home}, already sent on ${HOPS_MAX} times`);
    }
    this.forwards.push(forwarded(command));
    return { status: 'forwarded', reason: `homed in ${home}` };
  }

  private debited(current: Transfer, creditRegion: string): Transfer {
    return {
      ...current,
      status: TransferStatus.DEBITED,
      debitedAt: this.context.now,
      creditRegion,
      clearingAccountId: clearingAccountId(this.context.region, current.currency, current.debitAccountId),
    };
  }

  /** Step 1: the debit account pays this region's clearing account (balance conserved here). */
  private debitToClearing(
    current: Transfer,
    debit: Account,
    amount: bigint,
    line: LineType,
    released: bigint,
  ): void {
    const clearing = this.clearing(current.currency, current.debitAccountId);
    this.setAccount(
      {
        ...debit,
        balance: debit.balance - amount,
        heldAmount: debit.heldAmount - released,
        inFlightAmount: (debit.inFlightAmount ?? 0n) + amount,
      },
      { transferId: current.id, type: line, amount, counterpartyAccountId: current.creditAccountId },
    );
    this.setAccount(
      { ...clearing, balance: clearing.balance + amount },
      {
        transferId: current.id,
        type: LineType.CREDIT,
        amount,
        counterpartyAccountId: current.debitAccountId,
      },
    );
  }

  /** This region's clearing account for a currency (opened on first use; may go negative). */
  private clearing(currency: string, accountId: string): Account {
    const id = clearingAccountId(this.context.region, currency, accountId);
    const existing = this.accounts.get(id);
    if (existing !== undefined) return existing;
    const now = this.context.now;
    const opened: Account = {
      id,
      currency,
      overdraftLimit: CLEARING_OVERDRAFT,
      balance: 0n,
      heldAmount: 0n,
      status: AccountStatus.OPEN,
      version: 0n,
      homeRegion: this.context.region,
      epoch: 1n,
      fingerprint: 'clearing',
      createdAt: now,
      updatedAt: now,
    };
    this.accounts.set(id, opened);
    this.opened.add(id);
    return opened;
  }

  private emitCreditLeg(t: Transfer): void {
    this.emits.push(creditLegCommand(t, this.context.region, this.context.now));
  }

  private emitCreditResult(leg: CreditLeg): void {
    this.emits.push({
      v: 1,
      type: 'credit_result',
      transferId: leg.transferId,
      debitAccountId: leg.debitAccountId,
      outcome: leg.outcome,
      ...(leg.reason === undefined ? {} : { reason: leg.reason }),
      fromRegion: this.context.region,
      sentAt: this.context.now,
    });
  }

  /** Step 2, at the credit account's home: credit from the clearing account, once per transfer. */
  private creditLeg(command: CreditLegCommand): CommandOutcome {
    const existing = this.legs.get(command.transferId);
    if (existing !== undefined) {
      this.emitCreditResult(existing);
      return { status: 'duplicate' };
    }
    const credit = this.accounts.get(command.creditAccountId);
    if (credit !== undefined && credit.homeRegion !== this.context.region)
      return this.forward(command, credit.homeRegion);
    const amount = BigInt(command.amount);
    const refusal =
      credit === undefined
        ? Reason.ACCOUNT_NOT_FOUND
        : (accountStatusRejection(credit) ??
          (credit.currency !== command.currency ? Reason.CURRENCY_MISMATCH : undefined));
    const leg: CreditLeg = {
      transferId: command.transferId,
      debitAccountId: command.debitAccountId,
      creditAccountId: command.creditAccountId,
      amount,
      currency: command.currency,
      outcome: refusal === undefined ? 'applied' : 'failed',
      ...(refusal === undefined ? {} : { reason: refusal }),
      region: this.context.region,
      at: this.context.now,
    };
    if (refusal === undefined && credit !== undefined) {
      const clearing = this.clearing(command.currency, command.creditAccountId);
      this.setAccount(
        { ...clearing, balance: clearing.balance - amount },
        { transferId: command.transferId, type: LineType.DEBIT, amount, counterpartyAccountId: credit.id },
      );
      const creditNow = this.accounts.get(credit.id) ?? credit;
      this.setAccount(
        { ...creditNow, balance: creditNow.balance + amount },
        {
          transferId: command.transferId,
          type: LineType.CREDIT,
          amount,
          counterpartyAccountId: command.debitAccountId,
        },
      );
    }
    this.legs.set(command.transferId, leg);
    this.emitCreditResult(leg);
    return refusal === undefined ? { status: 'credited' } : { status: 'credit_failed', reason: refusal };
  }

  /** Step 3, at the debit account's home: POSTED, or the debit given back from the clearing account. */
  private creditResult(command: CreditResultCommand): CommandOutcome {
    const current = this.transfers.get(command.transferId);
    if (current === undefined) return unappliable(`${commandIdOf(command)}: unknown transfer`);
    const debit = this.accounts.get(current.debitAccountId);
    if (debit !== undefined && debit.homeRegion !== this.context.region)
      return this.forward(command, debit.homeRegion);
    if (current.status !== TransferStatus.DEBITED) return { status: 'duplicate' };
    if (debit === undefined) throw new Error(`transfer ${current.id}: debit account missing for its result`);
    const amount = current.capturedAmount ?? current.amount;
    // Settled either way: no longer in flight (the account may be closed again).
    const settled = (debit.inFlightAmount ?? 0n) - amount;
    this.accounts.set(debit.id, { ...debit, inFlightAmount: settled > 0n ? settled : 0n });
    if (command.outcome === 'applied') {
      this.transfers.set(current.id, {
        ...current,
        status: TransferStatus.POSTED,
        postedAt: this.context.now,
      });
      return { status: 'posted' };
    }
    const clearingId = current.clearingAccountId;
    const clearing = clearingId === undefined ? undefined : this.accounts.get(clearingId);
    if (clearing === undefined)
      throw new Error(`transfer ${current.id}: clearing account missing for a return`);
    this.setAccount(
      { ...clearing, balance: clearing.balance - amount },
      { transferId: current.id, type: LineType.DEBIT, amount, counterpartyAccountId: debit.id },
    );
    const debitNow = this.accounts.get(debit.id) ?? debit;
    this.setAccount(
      { ...debitNow, balance: debitNow.balance + amount },
      {
        transferId: current.id,
        type: LineType.RETURN,
        amount,
        counterpartyAccountId: current.creditAccountId,
      },
    );
    this.transfers.set(current.id, {
      ...current,
      status: TransferStatus.RETURNED,
      reason: (command.reason ?? 'credit_failed') as RejectionReason,
      returnedAt: this.context.now,
    });
    return { status: 'returned', reason: command.reason ?? 'credit_failed' };
  }

  // ---- working copy ----------------------------------------------------------------------

  private setAccount(after: Account, line: Omit<JournalLine, 'balanceAfter' | 'heldAfter'>): void {
    this.accounts.set(after.id, after);
    const lines = this.lines.get(after.id) ?? [];
    lines.push({ ...line, balanceAfter: after.balance, heldAfter: after.heldAmount });
    this.lines.set(after.id, lines);
  }

  private snapshot() {
    return {
      accounts: new Map(this.accounts),
      transfers: new Map(this.transfers),
      lines: new Map([...this.lines].map(([k, v]) => [k, [...v]])),
      opened: new Set(this.opened),
    };
  }

  private restore(saved: ReturnType<Book['snapshot']>): void {
    this.accounts = saved.accounts;
    this.transfers = saved.transfers;
    this.lines = saved.lines;
    this.opened = saved.opened;
  }
}

/** Adds an action record, dropping the oldest ignored ones beyond TRANSFER_ACTIONS_MAX. */
function withAction(
  actions: Readonly<Record<string, TransferAction>> | undefined,
  requestId: string,
  action: TransferAction,
): Record<string, TransferAction> {
  const next: Record<string, TransferAction> = { ...actions, [requestId]: action };
  const ignored = Object.entries(next)
    .filter(([, a]) => a.outcome === 'ignored')
    .sort(([, x], [, y]) => (x.at < y.at ? -1 : x.at > y.at ? 1 : 0));
  for (const [id] of ignored.slice(0, Math.max(0, Object.keys(next).length - TRANSFER_ACTIONS_MAX)))
    delete next[id];
  return next;
}

/** The one request id of a hold's expiry, whoever notices it first (the sweeper or a late capture). */
export function expireRequestId(transferId: string): string {
  return `expire:${transferId}`;
}

function refuseChange(account: Account, command: UpdateAccountCommand): AccountChangeRefusal | undefined {
  if (account.status === AccountStatus.CLOSED) return AccountChangeRefusal.ACCOUNT_CLOSED;
  if (
    command.status === AccountStatus.CLOSED &&
    (account.balance !== 0n || account.heldAmount !== 0n || (account.inFlightAmount ?? 0n) !== 0n)
  ) {
    return AccountChangeRefusal.ACCOUNT_NOT_EMPTY;
  }
  if (command.overdraftLimit !== undefined && availableBalance(account) < -BigInt(command.overdraftLimit)) {
    return AccountChangeRefusal.LIMIT_BELOW_BALANCE;
  }
  return undefined;
}

function page(account: Account, postedAt: string, lines: readonly JournalLine[]): JournalPage {
  return {
    accountId: account.id,
    version: account.version,
    epoch: account.epoch,
    currency: account.currency,
    postedAt,
    lines,
  };
}

function unappliable(reason: string): CommandOutcome {
  return { status: 'unappliable', reason };
}

/** Double entry: a batch never creates or destroys money, per currency, to the minor unit. */
function assertConserved(
  accounts: readonly { before: Account; after: Account }[],
  opened: readonly Account[],
): void {
  const delta = new Map<string, bigint>();
  for (const { before, after } of accounts) {
    delta.set(after.currency, (delta.get(after.currency) ?? 0n) + after.balance - before.balance);
  }
  for (const a of opened) delta.set(a.currency, (delta.get(a.currency) ?? 0n) + a.balance);
  for (const [currency, d] of delta) {
    if (d !== 0n) throw new Error(`ledger invariant broken: ${currency} changed by ${d}`);
  }
}

/** The state after a write set is applied: what the store holds once `commit` succeeded. */
export function applyWrites(state: LedgerState, writes: WriteSet): LedgerState {
  const accounts = new Map(state.accounts);
  const transfers = new Map(state.transfers);
  const legs = new Map(state.legs);
  for (const { after } of writes.accounts) accounts.set(after.id, after);
  for (const a of writes.openedAccounts) accounts.set(a.id, a);
  for (const { after } of writes.transfers) transfers.set(after.id, after);
  for (const { after } of writes.legs ?? []) legs.set(after.transferId, after);
  return { accounts, transfers, legs };
}
