// zod/mini (see identifiers.ts): the consumer decodes every record with these schemas.
import * as z from 'zod/mini';
import { CurrencyCode, Identifier, Metadata, Reference } from './identifiers.js';
import { type AccountSpec, AccountStatus, HOLD_TIMEOUT_SECONDS_MAX, type TransferRequest } from './ledger.js';
import { formatMinorUnits, isMoneyDigits } from './money.js';

/**
 * Commands carried on the Kinesis stream. The consumer is the only writer of account items, so
 * every change to an account (opening it, moving or reserving money, limits, status) travels
 * through the stream in the partition of the account whose order matters, and is applied in order.
 *
 * Versioned (`v`) so that a new producer and an old consumer can coexist during a deploy.
 */
const MoneyDigits = z.string().check(z.refine(isMoneyDigits, 'must be a decimal string of 1-19 digits'));
const PositiveMoney = MoneyDigits.check(z.refine((s) => BigInt(s) > 0n, 'must be positive'));
const Timestamp = z.iso.datetime();
const Fingerprint = z.string().check(z.minLength(16), z.maxLength(64));
const RequestId = z.string().check(z.minLength(1), z.maxLength(160));
const RegionName = z.string().check(z.minLength(1), z.maxLength(32));
/** A command sent on by a region that is not its account's home; bounded so no two regions ping-pong. */
export const HOPS_MAX = 3;
const Hops = z.optional(z.int().check(z.gte(1), z.lte(HOPS_MAX)));

export const TransferBody = z.strictObject({
  id: Identifier,
  debitAccountId: Identifier,
  creditAccountId: Identifier,
  amount: PositiveMoney,
  currency: CurrencyCode,
  reference: z.optional(Reference),
  metadata: z.optional(Metadata),
  holdTimeoutSeconds: z.optional(z.int().check(z.gte(1), z.lte(HOLD_TIMEOUT_SECONDS_MAX))),
  reversalOf: z.optional(Identifier),
  groupId: z.optional(Identifier),
});
export type TransferBody = z.infer<typeof TransferBody>;

export const TransferCommand = z.strictObject({
  v: z.literal(1),
  type: z.literal('transfer'),
  fingerprint: Fingerprint,
  acceptedAt: Timestamp,
  transfer: TransferBody,
  hops: Hops,
});
export type TransferCommand = z.infer<typeof TransferCommand>;

/** Legs of an atomic batch: all POSTED or all REJECTED, applied in order as one unit. */
export const ATOMIC_LEGS_MAX = 25;
export const AtomicGroupCommand = z.strictObject({
  v: z.literal(1),
  type: z.literal('atomic_group'),
  groupId: Identifier,
  acceptedAt: Timestamp,
  legs: z
    .array(z.strictObject({ fingerprint: Fingerprint, transfer: TransferBody }))
    .check(z.minLength(1), z.maxLength(ATOMIC_LEGS_MAX)),
  hops: Hops,
});
export type AtomicGroupCommand = z.infer<typeof AtomicGroupCommand>;

/** Capture, void or expiry of a hold; partitioned by the hold's debit account. */
export const HoldActionCommand = z.strictObject({
  v: z.literal(1),
  type: z.enum(['capture', 'void', 'expire']),
  transferId: Identifier,
  debitAccountId: Identifier,
  requestId: RequestId,
  requestedAt: Timestamp,
  amount: z.optional(PositiveMoney),
  hops: Hops,
});
export type HoldActionCommand = z.infer<typeof HoldActionCommand>;

export const OpenAccountCommand = z.strictObject({
  v: z.literal(1),
  type: z.literal('open_account'),
  fingerprint: Fingerprint,
  requestedAt: Timestamp,
  account: z.strictObject({
    id: Identifier,
    currency: CurrencyCode,
    overdraftLimit: MoneyDigits,
    homeRegion: RegionName,
    metadata: z.optional(Metadata),
  }),
  hops: Hops,
});
export type OpenAccountCommand = z.infer<typeof OpenAccountCommand>;

export const UpdateAccountCommand = z.strictObject({
  v: z.literal(1),
  type: z.literal('update_account'),
  accountId: Identifier,
  requestId: RequestId,
  requestedAt: Timestamp,
  overdraftLimit: z.optional(MoneyDigits),
  status: z.optional(z.enum([AccountStatus.OPEN, AccountStatus.FROZEN, AccountStatus.CLOSED])),
  hops: Hops,
});
export type UpdateAccountCommand = z.infer<typeof UpdateAccountCommand>;

/**
 * Step 2 of a cross-region transfer, sent by the debit account's home to the credit account's
 * home: credit `amount` from that region's clearing account (or say why not). Partitioned by the
 * credit account; idempotent by transfer id (the credit leg item).
 */
export const CreditLegCommand = z.strictObject({
  v: z.literal(1),
  type: z.literal('credit_leg'),
  transferId: Identifier,
  debitAccountId: Identifier,
  creditAccountId: Identifier,
  amount: PositiveMoney,
  currency: CurrencyCode,
  fromRegion: RegionName,
  sentAt: Timestamp,
  hops: Hops,
});
export type CreditLegCommand = z.infer<typeof CreditLegCommand>;

/** Step 3: the credit's outcome, back to the debit account's home (POSTED, or the debit RETURNED). */
export const CreditResultCommand = z.strictObject({
  v: z.literal(1),
  type: z.literal('credit_result'),
  transferId: Identifier,
  debitAccountId: Identifier,
  outcome: z.enum(['applied', 'failed']),
  reason: z.optional(z.string().check(z.minLength(1), z.maxLength(64))),
  fromRegion: RegionName,
  sentAt: Timestamp,
  hops: Hops,
});
export type CreditResultCommand = z.infer<typeof CreditResultCommand>;

export const LedgerCommand = z.union([
  TransferCommand,
  AtomicGroupCommand,
  HoldActionCommand,
  OpenAccountCommand,
  UpdateAccountCommand,
  CreditLegCommand,
  CreditResultCommand,
]);
export type LedgerCommand = z.infer<typeof LedgerCommand>;

/** Kinesis partition key: the account whose order matters (the debited one for money moves). */
export function partitionKeyOf(command: LedgerCommand): string {
  switch (command.type) {
    case 'transfer':
      return command.transfer.debitAccountId;
    case 'atomic_group':
      return command.legs[0]?.transfer.debitAccountId ?? command.groupId;
    case 'open_account':
      return command.account.id;
    case 'update_account':
      return command.accountId;
    case 'credit_leg':
      return command.creditAccountId;
    default:
      return command.debitAccountId;
  }
}

/** Unique id of a command, for logs and dead letters. */
export function commandIdOf(command: LedgerCommand): string {
  switch (command.type) {
    case 'transfer':
      return `transfer:${command.transfer.id}`;
    case 'atomic_group':
      return `group:${command.groupId}`;
    case 'open_account':
      return `account:${command.account.id}`;
    case 'update_account':
      return `account-update:${command.requestId}`;
    case 'credit_leg':
      return `credit-leg:${command.transferId}`;
    case 'credit_result':
      return `credit-result:${command.transferId}`;
    default:
      return `${command.type}:${command.requestId}`;
  }
}

/** The account, transfer and credit-leg ids a command reads and may write (for reads and batch sizing). */
export function touchesOf(command: LedgerCommand): {
  accounts: string[];
  transfers: string[];
  legs?: string[];
} {
  switch (command.type) {
    case 'transfer':
      return {
        accounts: [command.transfer.debitAccountId, command.transfer.creditAccountId],
        transfers: [
          command.transfer.id,
          ...(command.transfer.reversalOf === undefined ? [] : [command.transfer.reversalOf]),
        ],
      };
    case 'atomic_group':
      return {
        accounts: command.legs.flatMap((l) => [l.transfer.debitAccountId, l.transfer.creditAccountId]),
        transfers: command.legs.map((l) => l.transfer.id),
      };
    case 'open_account':
      return { accounts: [command.account.id], transfers: [] };
    case 'update_account':
      return { accounts: [command.accountId], transfers: [] };
    case 'credit_leg':
      return { accounts: [command.creditAccountId], transfers: [], legs: [command.transferId] };
    case 'credit_result':
      return { accounts: [command.debitAccountId], transfers: [command.transferId] };
    default:
      // The credit account is only known from the transfer record: the reader adds it.
      return { accounts: [command.debitAccountId], transfers: [command.transferId] };
  }
}

export function transferBodyOf(t: TransferRequest): TransferBody {
  return {
    id: t.id,
    debitAccountId: t.debitAccountId,
    creditAccountId: t.creditAccountId,
    amount: formatMinorUnits(t.amount),
    currency: t.currency,
    ...(t.reference === undefined ? {} : { reference: t.reference }),
    ...(t.metadata === undefined ? {} : { metadata: t.metadata }),
    ...(t.holdTimeoutSeconds === undefined ? {} : { holdTimeoutSeconds: t.holdTimeoutSeconds }),
    ...(t.reversalOf === undefined ? {} : { reversalOf: t.reversalOf }),
    ...(t.groupId === undefined ? {} : { groupId: t.groupId }),
  };
}

export function transferCommand(
  t: TransferRequest,
  fingerprint: string,
  acceptedAt: string,
): TransferCommand {
  return { v: 1, type: 'transfer', fingerprint, acceptedAt, transfer: transferBodyOf(t) };
}

export function atomicGroupCommand(
  groupId: string,
  legs: readonly { request: TransferRequest; fingerprint: string }[],
  acceptedAt: string,
): AtomicGroupCommand {
  return {
    v: 1,
    type: 'atomic_group',
    groupId,
    acceptedAt,
    legs: legs.map((l) => ({ fingerprint: l.fingerprint, transfer: transferBodyOf(l.request) })),
  };
}

export function openAccountCommand(
  a: AccountSpec,
  homeRegion: string,
  fingerprint: string,
  requestedAt: string,
): OpenAccountCommand {
  return {
    v: 1,
    type: 'open_account',
    fingerprint,
    requestedAt,
    account: {
      id: a.id,
      currency: a.currency,
      overdraftLimit: formatMinorUnits(a.overdraftLimit),
      homeRegion,
      ...(a.metadata === undefined ? {} : { metadata: a.metadata }),
    },
  };
}

/** The credit leg of a DEBITED transfer (step 2 of a transfer across home regions), sent by `from`. */
export function creditLegCommand(
  t: Pick<TransferRequest, 'id' | 'debitAccountId' | 'creditAccountId' | 'amount' | 'currency'> & {
    readonly capturedAmount?: bigint;
  },
  from: string,
  sentAt: string,
): CreditLegCommand {
  return {
    v: 1,
    type: 'credit_leg',
    transferId: t.id,
    debitAccountId: t.debitAccountId,
    creditAccountId: t.creditAccountId,
    amount: formatMinorUnits(t.capturedAmount ?? t.amount),
    currency: t.currency,
    fromRegion: from,
    sentAt,
  };
}

/** The same command, one hop further (sent on by a region that is not its account's home). */
export function forwarded(command: LedgerCommand): LedgerCommand {
  return { ...command, hops: (command.hops ?? 0) + 1 };
}

export function transferRequestOf(body: TransferBody): TransferRequest {
  return {
    id: body.id,
    debitAccountId: body.debitAccountId,
    creditAccountId: body.creditAccountId,
    amount: BigInt(body.amount),
    currency: body.currency,
    ...(body.reference === undefined ? {} : { reference: body.reference }),
    ...(body.metadata === undefined ? {} : { metadata: body.metadata }),
    ...(body.holdTimeoutSeconds === undefined ? {} : { holdTimeoutSeconds: body.holdTimeoutSeconds }),
    ...(body.reversalOf === undefined ? {} : { reversalOf: body.reversalOf }),
    ...(body.groupId === undefined ? {} : { groupId: body.groupId }),
  };
}

export function accountSpecOf(c: OpenAccountCommand): AccountSpec {
  const a = c.account;
  return {
    id: a.id,
    currency: a.currency,
    overdraftLimit: BigInt(a.overdraftLimit),
    ...(a.metadata === undefined ? {} : { metadata: a.metadata }),
  };
}

export type DecodeResult = { ok: true; command: LedgerCommand } | { ok: false; reason: string };

/** Decodes a record's bytes. Never throws: a bad record is a value to dead-letter, not a crash. */
export function decodeCommand(data: Uint8Array): DecodeResult {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(data));
  } catch (error) {
    return { ok: false, reason: `not UTF-8 JSON: ${(error as Error).message}` };
  }
  const parsed = LedgerCommand.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues
      .slice(0, 5)
      .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    return { ok: false, reason: `invalid command: ${issues.join('; ')}` };
  }
  return { ok: true, command: parsed.data };
}

export function encodeCommand(command: LedgerCommand): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(command));
}
