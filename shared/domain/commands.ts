import { z } from 'zod';
import { CurrencyCode, Identifier, Metadata, Reference } from './identifiers.js';
import type { AccountSpec, TransferRequest } from './ledger.js';
import { formatMinorUnits, isMoneyDigits } from './money.js';

/**
 * Commands carried on the Kinesis stream. The consumer is the only writer of account items, so
 * every change to an account (opening it, moving money) travels through the stream in the
 * account's partition and is applied in order.
 *
 * Versioned (`v`) so that a new producer and an old consumer can coexist during a deploy.
 */
const MoneyDigits = z.string().refine(isMoneyDigits, 'must be a decimal string of 1-19 digits');
const Timestamp = z.iso.datetime();
const Fingerprint = z.string().min(16).max(64);

export const TransferCommand = z
  .object({
    v: z.literal(1),
    type: z.literal('transfer'),
    fingerprint: Fingerprint,
    acceptedAt: Timestamp,
    transfer: z
      .object({
        id: Identifier,
        debitAccountId: Identifier,
        creditAccountId: Identifier,
        amount: MoneyDigits.refine((s) => BigInt(s) > 0n, 'must be positive'),
        currency: CurrencyCode,
        reference: Reference.optional(),
        metadata: Metadata.optional(),
      })
      .strict(),
  })
  .strict();
export type TransferCommand = z.infer<typeof TransferCommand>;

export const OpenAccountCommand = z
  .object({
    v: z.literal(1),
    type: z.literal('open_account'),
    fingerprint: Fingerprint,
    requestedAt: Timestamp,
    account: z
      .object({
        id: Identifier,
        currency: CurrencyCode,
        overdraftLimit: MoneyDigits,
        homeRegion: z.string().min(1).max(32),
        metadata: Metadata.optional(),
      })
      .strict(),
  })
  .strict();
export type OpenAccountCommand = z.infer<typeof OpenAccountCommand>;

export const LedgerCommand = z.discriminatedUnion('type', [TransferCommand, OpenAccountCommand]);
export type LedgerCommand = z.infer<typeof LedgerCommand>;

/** Kinesis partition key: the account whose order matters (the debited one for a transfer). */
export function partitionKeyOf(command: LedgerCommand): string {
  return command.type === 'transfer' ? command.transfer.debitAccountId : command.account.id;
}

/** Unique id of a command, for logs and dead letters. */
export function commandIdOf(command: LedgerCommand): string {
  return command.type === 'transfer' ? `transfer:${command.transfer.id}` : `account:${command.account.id}`;
}

export function transferCommand(
  t: TransferRequest,
  fingerprint: string,
  acceptedAt: string,
): TransferCommand {
  return {
    v: 1,
    type: 'transfer',
    fingerprint,
    acceptedAt,
    transfer: {
      id: t.id,
      debitAccountId: t.debitAccountId,
      creditAccountId: t.creditAccountId,
      amount: formatMinorUnits(t.amount),
      currency: t.currency,
      ...(t.reference === undefined ? {} : { reference: t.reference }),
      ...(t.metadata === undefined ? {} : { metadata: t.metadata }),
    },
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

export function transferRequestOf(c: TransferCommand): TransferRequest {
  const t = c.transfer;
  return {
    id: t.id,
    debitAccountId: t.debitAccountId,
    creditAccountId: t.creditAccountId,
    amount: BigInt(t.amount),
    currency: t.currency,
    ...(t.reference === undefined ? {} : { reference: t.reference }),
    ...(t.metadata === undefined ? {} : { metadata: t.metadata }),
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
