import { decodeCommand, encodeCommand, type LedgerCommand, touchesOf } from '../../shared/domain/commands.js';
import { InvalidCursorError } from '../../shared/domain/errors.js';
import {
  type Account,
  type AccountSpec,
  AccountStatus,
  type JournalPage,
  type StatementEntry,
  type Transfer,
  type TransferRequest,
  TransferStatus,
} from '../../shared/domain/ledger.js';
import {
  type CommandOutcome,
  expireRequestId,
  type LedgerState,
  planBatch,
  type WriteSet,
} from '../../shared/domain/planner.js';
import type { CommandQueue, EnqueueOutcome } from '../../shared/ports/command-queue.js';
import type {
  LedgerReader,
  RecordAcceptedResult,
  StatementPage,
  StatementPageRequest,
  TransferRecorder,
} from '../../shared/ports/ledger-store.js';

export interface InMemoryLedgerOptions {
  /** The region the fake consumer writes as (accounts opened here are homed here). */
  readonly region?: string;
  /** Clock for the consumer's timestamps (postings, hold expiries). */
  readonly now?: () => Date;
}

/** The commands of one type (a hold action's type is one of three, hence not `Extract`). */
export type CommandOf<T extends LedgerCommand['type']> = LedgerCommand & { readonly type: T };

export interface AppliedCommand {
  readonly command: LedgerCommand;
  readonly outcome: CommandOutcome;
}

/**
 * A test double of our own ports: LedgerReader + TransferRecorder + CommandQueue in memory, plus a
 * consumer that applies commands exactly as the real one does, minus DynamoDB: it reads the state
 * a command touches, plans it with the domain's `planBatch`, and applies the write set (accounts,
 * opened accounts, journal pages, transfers), checking the same conditions the store's transaction
 * does. Every enqueued command goes through the real codec (encode, decode, schema), so what the
 * API enqueues is what the stream would carry.
 *
 * The stream is one ordered queue (`pending`):
 * - account commands (open, update) are applied as they are enqueued, after every command queued
 *   before them, unless `autoOpenAccounts` / `autoUpdateAccounts` is off, so the API's bounded
 *   waits for them complete;
 * - everything else waits until `applyPending()`, or is applied at once when `autoApply` is on
 *   (a consumer that keeps up, for `Prefer: wait`);
 * - `refuseEnqueue` makes the queue refuse every command (the 503 path).
 */
export class InMemoryLedger implements LedgerReader, TransferRecorder, CommandQueue {
  readonly accounts = new Map<string, Account>();
  readonly transfers = new Map<string, Transfer>();
  /** Journal pages per account, oldest first, as the consumer wrote them. */
  readonly pages = new Map<string, JournalPage[]>();
  /** Every command the queue accepted, in order. */
  readonly enqueued: LedgerCommand[] = [];
  /** Commands accepted and not yet applied, in stream order. */
  readonly pending: LedgerCommand[] = [];
  /** Every command applied, with the planner's outcome, in order. */
  readonly applied: AppliedCommand[] = [];
  /** Calls to `enqueue` (one call = one PutRecords). */
  enqueueCalls = 0;
  /** Calls to `recordAccepted`, whatever their result. */
  recordCalls = 0;
  /** When set, enqueue refuses every command with this error code. */
  refuseEnqueue: string | undefined;
  autoOpenAccounts = true;
  autoUpdateAccounts = true;
  autoApply = false;

  private readonly region: string;
  private readonly now: () => Date;

  constructor(options: InMemoryLedgerOptions = {}) {
    this.region = options.region ?? 'eu-west-1';
    this.now = options.now ?? (() => new Date());
  }

  // ---- LedgerReader ----

  async getAccount(id: string): Promise<Account | undefined> {
    return this.accounts.get(id);
  }

  async getTransfer(id: string): Promise<Transfer | undefined> {
    return this.transfers.get(id);
  }

  /** Newest first: pages by descending version, each page's lines last-first (as the store reads them). */
  async listStatement(accountId: string, page: StatementPageRequest): Promise<StatementPage> {
    const after = page.cursor === undefined ? undefined : decodeCursor(page.cursor);
    const entries: StatementEntry[] = [];
    let more = false;
    const pages = this.pages.get(accountId) ?? [];
    for (let p = pages.length - 1; p >= 0 && !more; p--) {
      const journal = pages[p] as JournalPage;
      for (let index = journal.lines.length - 1; index >= 0; index--) {
        if (after !== undefined && !isOlder(journal.version, index, after)) continue;
        if (entries.length === page.limit) {
          more = true;
          break;
        }
        const line = journal.lines[index];
        if (line === undefined) continue;
        const { currency, postedAt, version } = journal;
        entries.push({ ...line, accountId, version, index, currency, postedAt });
      }
    }
    const last = entries.at(-1);
    return { entries, nextCursor: more && last !== undefined ? encodeCursor(last) : null };
  }

  // ---- TransferRecorder ----

  async recordAccepted(
    request: TransferRequest,
    fingerprint: string,
    acceptedAt: string,
  ): Promise<RecordAcceptedResult> {
    this.recordCalls++;
    const existing = this.transfers.get(request.id);
    if (existing !== undefined) return { created: false, existing };
    const transfer: Transfer = {
      ...request,
      fingerprint,
      acceptedAt,
      status: TransferStatus.ACCEPTED,
      revision: 0n,
    };
    this.transfers.set(request.id, transfer);
    return { created: true, transfer };
  }

  // ---- CommandQueue ----

  async enqueue(commands: readonly LedgerCommand[]): Promise<readonly EnqueueOutcome[]> {
    this.enqueueCalls++;
    const refused = this.refuseEnqueue;
    if (refused !== undefined) return commands.map(() => ({ ok: false, errorCode: refused }));
    for (const command of commands) {
      const decoded = decodeCommand(encodeCommand(command));
      if (!decoded.ok) throw new Error(`the API enqueued an invalid command: ${decoded.reason}`);
      this.enqueued.push(decoded.command);
      this.pending.push(decoded.command);
      if (this.appliesAtOnce(decoded.command)) this.applyPending();
    }
    return commands.map(() => ({ ok: true }));
  }

  // ---- the consumer ----

  /** Applies every pending command in stream order, as the consumer would; returns their outcomes. */
  applyPending(): CommandOutcome[] {
    const outcomes: CommandOutcome[] = [];
    for (let command = this.pending.shift(); command !== undefined; command = this.pending.shift()) {
      outcomes.push(this.apply(command));
    }
    return outcomes;
  }

  /** The reconciler's hold sweep: enqueues an expire command for each HELD transfer past its timeout. */
  async sweepExpiredHolds(): Promise<number> {
    const now = this.now().toISOString();
    const due = [...this.transfers.values()].filter(
      (t) => t.status === TransferStatus.HELD && t.holdExpiresAt !== undefined && t.holdExpiresAt <= now,
    );
    if (due.length === 0) return 0;
    await this.enqueue(
      due.map((t) => ({
        v: 1,
        type: 'expire',
        transferId: t.id,
        debitAccountId: t.debitAccountId,
        requestId: expireRequestId(t.id),
        requestedAt: now,
      })),
    );
    return due.length;
  }

  /** Opens an account directly (as if its command had been consumed). */
  openAccount(spec: AccountSpec, fingerprint = 'seeded-fingerprint-0000'): Account {
    const at = this.now().toISOString();
    const account: Account = {
      ...spec,
      balance: 0n,
      heldAmount: 0n,
      status: AccountStatus.OPEN,
      version: 0n,
      homeRegion: this.region,
      epoch: 1n,
      fingerprint,
      createdAt: at,
      updatedAt: at,
    };
    this.accounts.set(spec.id, account);
    return account;
  }

  /** Commands of one type that went through the queue. */
  commandsOf<T extends LedgerCommand['type']>(type: T): CommandOf<T>[] {
    return this.enqueued.filter((c): c is CommandOf<T> => c.type === type);
  }

  private appliesAtOnce(command: LedgerCommand): boolean {
    if (this.autoApply) return true;
    if (command.type === 'open_account') return this.autoOpenAccounts;
    if (command.type === 'update_account') return this.autoUpdateAccounts;
    return false;
  }

  /** Read, plan, commit: the consumer's loop for one command (no contention here, so no retry). */
  private apply(command: LedgerCommand): CommandOutcome {
    const state = this.readState(command);
    const { outcomes, writes } = planBatch([command], state, {
      region: this.region,
      now: this.now().toISOString(),
    });
    const [outcome] = outcomes;
    if (outcome === undefined) throw new Error('planBatch returned no outcome');
    this.commit(writes);
    this.applied.push({ command, outcome });
    return outcome;
  }

  /** What the command touches, plus the accounts of the transfers it acts on (as LedgerService reads). */
  private readState(command: LedgerCommand): LedgerState {
    const touches = touchesOf(command);
    const transfers = pick(this.transfers, touches.transfers);
    const accountIds = [...touches.accounts];
    for (const t of transfers.values()) accountIds.push(t.debitAccountId, t.creditAccountId);
    return { accounts: pick(this.accounts, accountIds), transfers };
  }

  /** The store's transaction: every condition checked first, then every write, all or nothing. */
  private commit(w: WriteSet): void {
    for (const { before } of w.transfers) expectUnchanged(this.transfers.get(before.id), before, 'transfer');
    for (const { before } of w.accounts) expectUnchanged(this.accounts.get(before.id), before, 'account');
    for (const a of w.openedAccounts) {
      if (this.accounts.has(a.id)) throw new Error(`account ${a.id} opened twice`);
    }
    for (const p of w.pages) {
      const last = this.pages.get(p.accountId)?.at(-1);
      if (last !== undefined && last.version >= p.version) {
        throw new Error(`journal page ${p.accountId}@${p.version} written twice`);
      }
    }
    for (const { after } of w.transfers) this.transfers.set(after.id, after);
    for (const { after } of w.accounts) this.accounts.set(after.id, after);
    for (const a of w.openedAccounts) this.accounts.set(a.id, a);
    for (const p of w.pages) this.pages.set(p.accountId, [...(this.pages.get(p.accountId) ?? []), p]);
  }
}

function pick<T>(from: ReadonlyMap<string, T>, ids: Iterable<string>): Map<string, T> {
  const picked = new Map<string, T>();
  for (const id of ids) {
    const value = from.get(id);
    if (value !== undefined) picked.set(id, value);
  }
  return picked;
}

/** The store's condition (same version / revision as read); nothing else writes here, so it always holds. */
function expectUnchanged<T>(current: T | undefined, before: T, what: string): void {
  if (current !== before) throw new Error(`${what} changed between read and write`);
}

interface Position {
  readonly version: bigint;
  readonly index: number;
}

function isOlder(version: bigint, index: number, than: Position): boolean {
  return version < than.version || (version === than.version && index < than.index);
}

/** Same cursor format as the DynamoDB store (the last line returned), and the same refusal of anything else. */
function encodeCursor(last: Position): string {
  return Buffer.from(JSON.stringify({ v: last.version.toString(), i: last.index })).toString('base64url');
}

function decodeCursor(cursor: string): Position {
  let parsed: { v?: unknown; i?: unknown };
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { v?: unknown; i?: unknown };
  } catch (error) {
    throw new InvalidCursorError(undefined, { cause: error });
  }
  const { v, i } = parsed ?? {};
  if (typeof v === 'string' && /^[0-9]{1,20}$/.test(v) && Number.isSafeInteger(i) && (i as number) >= 0) {
    return { version: BigInt(v), index: i as number };
  }
  throw new InvalidCursorError();
}
