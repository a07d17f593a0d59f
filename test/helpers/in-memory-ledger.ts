import {
  decodeCommand,
  encodeCommand,
  type LedgerCommand,
  type OpenAccountCommand,
  type TransferCommand,
  transferRequestOf,
} from '../../shared/domain/commands.js';
import { InvalidCursorError } from '../../shared/domain/errors.js';
import {
  type Account,
  type AccountSpec,
  decideTransfer,
  entriesOf,
  type StatementEntry,
  type Transfer,
  type TransferRequest,
  TransferStatus,
} from '../../shared/domain/ledger.js';
import { parseStoredMinorUnits } from '../../shared/domain/money.js';
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
  /** Clock for the consumer's timestamps. */
  readonly now?: () => Date;
}

/**
 * A test double of our own ports: LedgerReader + TransferRecorder + CommandQueue in memory, plus a
 * fake consumer. Every enqueued command goes through the real codec (encode, decode, schema), so
 * what the API enqueues is what the stream would carry.
 *
 * - open_account commands are applied as they are enqueued (unless `autoOpenAccounts` is off),
 *   so POST /v1/accounts completes;
 * - transfer commands wait in `pending` until `applyPending()` posts or rejects them with the real
 *   ledger rule (decideTransfer, entriesOf);
 * - `refuseEnqueue` makes the queue refuse every command (the 503 path).
 */
export class InMemoryLedger implements LedgerReader, TransferRecorder, CommandQueue {
  readonly accounts = new Map<string, Account>();
  readonly transfers = new Map<string, Transfer>();
  /** Per account, oldest first. */
  readonly statements = new Map<string, StatementEntry[]>();
  /** Every command the queue accepted, in order. */
  readonly enqueued: LedgerCommand[] = [];
  /** Transfer commands accepted and not yet applied. */
  readonly pending: TransferCommand[] = [];
  /** Calls to `enqueue` (one call = one PutRecords). */
  enqueueCalls = 0;
  /** Calls to `recordAccepted`, whatever their result. */
  recordCalls = 0;
  /** When set, enqueue refuses every command with this error code. */
  refuseEnqueue: string | undefined;
  autoOpenAccounts = true;

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

  async listStatement(accountId: string, page: StatementPageRequest): Promise<StatementPage> {
    const before = page.cursor === undefined ? undefined : decodeCursor(page.cursor);
    const newestFirst = [...(this.statements.get(accountId) ?? [])].reverse();
    const eligible = before === undefined ? newestFirst : newestFirst.filter((e) => e.version < before);
    const entries = eligible.slice(0, page.limit);
    const last = entries.at(-1);
    const more = eligible.length > entries.length && last !== undefined;
    return { entries, nextCursor: more ? encodeCursor(last.version) : null };
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
    const transfer: Transfer = { ...request, fingerprint, acceptedAt, status: TransferStatus.ACCEPTED };
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
      if (decoded.command.type === 'transfer') this.pending.push(decoded.command);
      else if (this.autoOpenAccounts) this.applyOpenAccount(decoded.command);
    }
    return commands.map(() => ({ ok: true }));
  }

  // ---- the fake consumer ----

  /** Applies every pending transfer command in order, as the consumer would. */
  applyPending(): void {
    for (const command of this.pending.splice(0)) this.applyTransfer(command);
  }

  /** Opens an account directly (as if its command had been consumed). */
  openAccount(spec: AccountSpec, fingerprint = 'seeded-fingerprint-0000'): Account {
    const at = this.now().toISOString();
    const account: Account = {
      ...spec,
      balance: 0n,
      version: 0n,
      homeRegion: this.region,
      fingerprint,
      createdAt: at,
      updatedAt: at,
    };
    this.accounts.set(spec.id, account);
    return account;
  }

  /** Commands of one type that went through the queue. */
  commandsOf<T extends LedgerCommand['type']>(type: T): Extract<LedgerCommand, { type: T }>[] {
    return this.enqueued.filter((c): c is Extract<LedgerCommand, { type: T }> => c.type === type);
  }

  private applyOpenAccount(command: OpenAccountCommand): void {
    if (this.accounts.has(command.account.id)) return;
    const a = command.account;
    const account: Account = {
      id: a.id,
      currency: a.currency,
      overdraftLimit: parseStoredMinorUnits(a.overdraftLimit),
      ...(a.metadata === undefined ? {} : { metadata: a.metadata }),
      balance: 0n,
      version: 0n,
      homeRegion: a.homeRegion,
      fingerprint: command.fingerprint,
      createdAt: command.requestedAt,
      updatedAt: command.requestedAt,
    };
    this.accounts.set(a.id, account);
  }

  private applyTransfer(command: TransferCommand): void {
    const current = this.transfers.get(command.transfer.id);
    if (current === undefined || current.status !== TransferStatus.ACCEPTED) return;
    if (current.fingerprint !== command.fingerprint) return;
    const request = transferRequestOf(command);
    const debit = this.accounts.get(request.debitAccountId);
    const credit = this.accounts.get(request.creditAccountId);
    const decision = decideTransfer(request, debit, credit, this.region);
    const at = this.now().toISOString();
    if (decision.outcome === 'not_home') return;
    if (decision.outcome === 'reject') {
      this.transfers.set(current.id, {
        ...current,
        status: TransferStatus.REJECTED,
        reason: decision.reason,
        rejectedAt: at,
      });
      return;
    }
    if (debit === undefined || credit === undefined) throw new Error('post decided without both accounts');
    const [debitEntry, creditEntry] = entriesOf(request, debit, credit, decision, at);
    this.accounts.set(debit.id, {
      ...debit,
      balance: decision.debitBalanceAfter,
      version: debitEntry.version,
      updatedAt: at,
    });
    this.accounts.set(credit.id, {
      ...credit,
      balance: decision.creditBalanceAfter,
      version: creditEntry.version,
      updatedAt: at,
    });
    this.appendEntry(debitEntry);
    this.appendEntry(creditEntry);
    this.transfers.set(current.id, {
      ...current,
      status: TransferStatus.POSTED,
      postedAt: at,
      debitBalanceAfter: decision.debitBalanceAfter,
      creditBalanceAfter: decision.creditBalanceAfter,
    });
  }

  private appendEntry(entry: StatementEntry): void {
    const list = this.statements.get(entry.accountId) ?? [];
    list.push(entry);
    this.statements.set(entry.accountId, list);
  }
}

function encodeCursor(version: bigint): string {
  return Buffer.from(JSON.stringify({ before: version.toString() })).toString('base64url');
}

/** Same cursor format as the DynamoDB store, and the same refusal of anything else. */
function decodeCursor(cursor: string): bigint {
  let before: unknown;
  try {
    before = (JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { before?: unknown }).before;
  } catch (error) {
    throw new InvalidCursorError(undefined, { cause: error });
  }
  if (typeof before === 'string' && /^[0-9]{1,20}$/.test(before) && BigInt(before) > 0n)
    return BigInt(before);
  throw new InvalidCursorError();
}
