import type { AccountSpec, TransferRequest } from '../../shared/domain/ledger.js';

/**
 * Deterministic workloads: the same seed gives the same accounts and transfers, so two runs (or the
 * real and the naive consumer) see the same shape of traffic.
 */

/** A small, fast, seedable PRNG (mulberry32). Returns floats in [0, 1). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

export const BENCH_CURRENCY = 'USD';
/** Overdraft given to bench accounts so that no transfer is rejected for funds (no funding phase). */
export const BENCH_OVERDRAFT = 10n ** 15n;

export function accountIds(prefix: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `${prefix}-${String(i).padStart(6, '0')}`);
}

export function accountSpecs(
  ids: readonly string[],
  overdraftLimit: bigint = BENCH_OVERDRAFT,
): AccountSpec[] {
  return ids.map((id) => ({ id, currency: BENCH_CURRENCY, overdraftLimit }));
}

export interface TransferMix {
  /** Ordinary accounts; each transfer picks two different ones. */
  readonly accounts: readonly string[];
  /** Transfer ids are `<idPrefix>-<n>`. */
  readonly idPrefix: string;
  readonly count: number;
  readonly seed: number;
  /** The hot account and the share of transfers that touch it (half as debit, half as credit). */
  readonly hot?: { readonly account: string; readonly share: number };
  /** Amounts are drawn uniformly from 1..amountMax minor units. */
  readonly amountMax?: number;
}

/** Transfers between random pairs of distinct accounts; with `hot`, that share of them involves it. */
export function transfers(mix: TransferMix): TransferRequest[] {
  if (mix.accounts.length < 2) throw new RangeError('a transfer mix needs at least two accounts');
  const random = prng(mix.seed);
  const pick = (): string => mix.accounts[Math.floor(random() * mix.accounts.length)] as string;
  const amountMax = mix.amountMax ?? 10_000;
  return Array.from({ length: mix.count }, (_, i) => {
    let debit = pick();
    let credit = pick();
    while (credit === debit) credit = pick();
    if (mix.hot !== undefined && random() < mix.hot.share) {
      if (random() < 0.5) debit = mix.hot.account;
      else credit = mix.hot.account;
    }
    return {
      id: `${mix.idPrefix}-${String(i).padStart(7, '0')}`,
      debitAccountId: debit,
      creditAccountId: credit,
      amount: BigInt(1 + Math.floor(random() * amountMax)),
      currency: BENCH_CURRENCY,
    };
  });
}
