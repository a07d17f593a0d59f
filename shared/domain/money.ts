/**
 * Money is an integer count of minor units. On the wire it is a decimal string; in code a bigint.
 * Never a float, never a JS number above 2^53 - 1.
 */

/** Longest decimal string accepted for an amount or a limit (the contract: 19 digits). */
export const MONEY_DIGITS_MAX = 19;
/** Largest JSON number accepted for money: beyond it a JS number cannot hold the value exactly. */
export const MONEY_JSON_NUMBER_MAX = Number.MAX_SAFE_INTEGER;
/** Largest value accepted for money: 19 nines. */
export const MONEY_VALUE_MAX = 10n ** BigInt(MONEY_DIGITS_MAX) - 1n;

const DIGITS = /^[0-9]{1,19}$/;

/** A decimal string of 1 to 19 digits. */
export function isMoneyDigits(raw: string): boolean {
  return DIGITS.test(raw);
}

/**
 * Converts a validated wire value (a digit string or a safe JSON integer) into minor units.
 * Throws RangeError on anything else: callers validate first (zod), so this is an assertion.
 */
export function toMinorUnits(raw: string | number): bigint {
  if (typeof raw === 'number') {
    if (!Number.isSafeInteger(raw) || raw < 0) throw new RangeError(`not a money integer: ${raw}`);
    return BigInt(raw);
  }
  if (!isMoneyDigits(raw)) throw new RangeError(`not a money string: ${JSON.stringify(raw)}`);
  return BigInt(raw);
}

/** Minor units as the canonical wire string (no leading zeros, "-" for negative balances). */
export function formatMinorUnits(value: bigint): string {
  return value.toString(10);
}

/** Parses a canonical signed integer string as stored (DynamoDB N values, record fields). */
export function parseStoredMinorUnits(raw: string): bigint {
  if (!/^-?[0-9]{1,38}$/.test(raw)) throw new RangeError(`not a stored money value: ${JSON.stringify(raw)}`);
  return BigInt(raw);
}
