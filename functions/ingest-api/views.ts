import type {
  Account,
  AccountSpec,
  StatementEntry,
  Transfer,
  TransferRequest,
} from '../../shared/domain/ledger.js';
import { formatMinorUnits, toMinorUnits } from '../../shared/domain/money.js';
import type {
  AccountView,
  OpenAccountBody,
  StatementEntryView,
  TransferBody,
  TransferView,
} from './schemas.js';

/** The one place domain values become wire JSON (money as strings, versions as integers), and back. */

export function accountView(a: Account): AccountView {
  return {
    id: a.id,
    currency: a.currency,
    balance: formatMinorUnits(a.balance),
    overdraftLimit: formatMinorUnits(a.overdraftLimit),
    homeRegion: a.homeRegion,
    version: versionNumber(a.version),
    createdAt: a.createdAt,
    updatedAt: a.updatedAt,
    ...(a.metadata === undefined ? {} : { metadata: a.metadata }),
  };
}

export function transferView(t: Transfer): TransferView {
  return {
    id: t.id,
    status: t.status,
    ...(t.reason === undefined ? {} : { reason: t.reason }),
    debitAccountId: t.debitAccountId,
    creditAccountId: t.creditAccountId,
    amount: formatMinorUnits(t.amount),
    currency: t.currency,
    ...(t.reference === undefined ? {} : { reference: t.reference }),
    ...(t.metadata === undefined ? {} : { metadata: t.metadata }),
    acceptedAt: t.acceptedAt,
    ...(t.postedAt === undefined ? {} : { postedAt: t.postedAt }),
    ...(t.rejectedAt === undefined ? {} : { rejectedAt: t.rejectedAt }),
  };
}

export function statementEntryView(e: StatementEntry): StatementEntryView {
  return {
    transferId: e.transferId,
    direction: e.direction,
    amount: formatMinorUnits(e.amount),
    currency: e.currency,
    counterpartyAccountId: e.counterpartyAccountId,
    balanceAfter: formatMinorUnits(e.balanceAfter),
    postedAt: e.postedAt,
    version: versionNumber(e.version),
  };
}

/** A validated transfer body as the domain's request (money to bigint). */
export function transferRequestOf(body: TransferBody): TransferRequest {
  return {
    id: body.id,
    debitAccountId: body.debitAccountId,
    creditAccountId: body.creditAccountId,
    amount: toMinorUnits(body.amount),
    currency: body.currency,
    ...(body.reference === undefined ? {} : { reference: body.reference }),
    ...(body.metadata === undefined ? {} : { metadata: body.metadata }),
  };
}

/** A validated open-account body as the domain's spec (the overdraft limit defaults to 0). */
export function accountSpecOf(body: OpenAccountBody): AccountSpec {
  return {
    id: body.id,
    currency: body.currency,
    overdraftLimit: toMinorUnits(body.overdraftLimit ?? '0'),
    ...(body.metadata === undefined ? {} : { metadata: body.metadata }),
  };
}

/** Versions count postings: far below 2^53 for any real account, asserted rather than assumed. */
function versionNumber(version: bigint): number {
  const n = Number(version);
  if (!Number.isSafeInteger(n)) throw new RangeError(`version ${version} does not fit a JSON integer`);
  return n;
}
