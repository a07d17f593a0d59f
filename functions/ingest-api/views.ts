import {
  type Account,
  type AccountSpec,
  type AccountStatus,
  availableBalance,
  HOLD_TIMEOUT_SECONDS_DEFAULT,
  LineType,
  type StatementEntry,
  type Transfer,
  type TransferAction,
  type TransferRequest,
} from '../../shared/domain/ledger.js';
import { formatMinorUnits, toMinorUnits } from '../../shared/domain/money.js';
import {
  type AccountChangeBody,
  type AccountView,
  EntryDirection,
  type OpenAccountBody,
  type StatementEntryView,
  TRANSFER_HISTORY_MAX,
  type TransferActionView,
  type TransferBody,
  type TransferView,
} from './schemas.js';

/** The one place domain values become wire JSON (money as strings, versions as integers), and back. */

export function accountView(a: Account): AccountView {
  return {
    id: a.id,
    currency: a.currency,
    balance: formatMinorUnits(a.balance),
    heldAmount: formatMinorUnits(a.heldAmount),
    availableBalance: formatMinorUnits(availableBalance(a)),
    overdraftLimit: formatMinorUnits(a.overdraftLimit),
    ...present(
      'inFlightAmount',
      a.inFlightAmount === undefined || a.inFlightAmount === 0n
        ? undefined
        : formatMinorUnits(a.inFlightAmount),
    ),
    status: a.status,
    homeRegion: a.homeRegion,
    version: versionNumber(a.version),
    createdAt: a.createdAt,
    updatedAt: a.updatedAt,
    ...present('metadata', a.metadata),
  };
}

export function transferView(t: Transfer): TransferView {
  return {
    id: t.id,
    status: t.status,
    ...present('reason', t.reason),
    debitAccountId: t.debitAccountId,
    creditAccountId: t.creditAccountId,
    amount: formatMinorUnits(t.amount),
    currency: t.currency,
    ...present('reference', t.reference),
    ...present('metadata', t.metadata),
    // The request's hold flag is not stored: a timeout is what makes a transfer a hold.
    hold: t.holdTimeoutSeconds !== undefined,
    ...present('holdTimeoutSeconds', t.holdTimeoutSeconds),
    ...present('heldAt', t.heldAt),
    ...present('holdExpiresAt', t.holdExpiresAt),
    ...present(
      'capturedAmount',
      t.capturedAmount === undefined ? undefined : formatMinorUnits(t.capturedAmount),
    ),
    ...present('releasedAt', t.releasedAt),
    ...present('reversedBy', t.reversedBy),
    ...present('reversalOf', t.reversalOf),
    ...present('groupId', t.groupId),
    acceptedAt: t.acceptedAt,
    ...present('postedAt', t.postedAt),
    ...present('rejectedAt', t.rejectedAt),
    ...present('creditRegion', t.creditRegion),
    ...present('debitedAt', t.debitedAt),
    ...present('returnedAt', t.returnedAt),
    history: historyOf(t.actions),
  };
}

/** Actions oldest first (ties by request id, so the order is stable); the latest ones if there are many. */
function historyOf(actions: Readonly<Record<string, TransferAction>> | undefined): TransferActionView[] {
  if (actions === undefined) return [];
  return Object.entries(actions)
    .map(([requestId, a]) => ({
      requestId,
      action: a.action,
      at: a.at,
      outcome: a.outcome,
      ...present('reason', a.reason),
    }))
    .sort((x, y) => compare(x.at, y.at) || compare(x.requestId, y.requestId))
    .slice(-TRANSFER_HISTORY_MAX);
}

export function statementEntryView(e: StatementEntry): StatementEntryView {
  return {
    transferId: e.transferId,
    type: e.type,
    ...present('direction', directionOf(e.type)),
    amount: formatMinorUnits(e.amount),
    currency: e.currency,
    ...present('counterpartyAccountId', e.counterpartyAccountId),
    balanceAfter: formatMinorUnits(e.balanceAfter),
    heldAmountAfter: formatMinorUnits(e.heldAfter),
    availableBalanceAfter: formatMinorUnits(
      availableBalance({ balance: e.balanceAfter, heldAmount: e.heldAfter }),
    ),
    postedAt: e.postedAt,
    version: versionNumber(e.version),
    index: e.index,
  };
}

/** The first statement shape's `direction`, kept for the lines that move money out of or into the account. */
function directionOf(type: LineType): EntryDirection | undefined {
  switch (type) {
    case LineType.DEBIT:
    case LineType.CAPTURE:
      return EntryDirection.DEBIT;
    case LineType.CREDIT:
    case LineType.RETURN:
      return EntryDirection.CREDIT;
    case LineType.HOLD:
    case LineType.RELEASE:
      return undefined;
  }
}

/**
 * A validated transfer body as the domain's request (money to bigint). `hold: true` becomes a hold
 * timeout (the default when none is given); the domain knows a hold by its timeout alone.
 */
export function transferRequestOf(body: TransferBody): TransferRequest {
  return {
    id: body.id,
    debitAccountId: body.debitAccountId,
    creditAccountId: body.creditAccountId,
    amount: toMinorUnits(body.amount),
    currency: body.currency,
    ...present('reference', body.reference),
    ...present('metadata', body.metadata),
    ...(body.hold === true
      ? { holdTimeoutSeconds: body.holdTimeoutSeconds ?? HOLD_TIMEOUT_SECONDS_DEFAULT }
      : {}),
  };
}

/** A validated open-account body as the domain's spec (the overdraft limit defaults to 0). */
export function accountSpecOf(body: OpenAccountBody): AccountSpec & { readonly homeRegion?: string } {
  return {
    id: body.id,
    currency: body.currency,
    overdraftLimit: toMinorUnits(body.overdraftLimit ?? '0'),
    ...present('metadata', body.metadata),
    ...present('homeRegion', body.homeRegion),
  };
}

/** A validated PATCH body as the service's change. */
export function accountChangeOf(body: AccountChangeBody): {
  readonly overdraftLimit?: bigint;
  readonly status?: AccountStatus;
} {
  return {
    ...(body.overdraftLimit === undefined ? {} : { overdraftLimit: toMinorUnits(body.overdraftLimit) }),
    ...present('status', body.status),
  };
}

/** `{ key: value }`, or nothing when the value is absent (exactOptionalPropertyTypes: absent, never undefined). */
function present<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return value === undefined ? {} : ({ [key]: value } as { [P in K]: V });
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Versions count ledger writes: far below 2^53 for any real account, asserted rather than assumed. */
function versionNumber(version: bigint): number {
  const n = Number(version);
  if (!Number.isSafeInteger(n)) throw new RangeError(`version ${version} does not fit a JSON integer`);
  return n;
}
