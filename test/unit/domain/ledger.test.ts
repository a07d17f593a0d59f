import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type Account,
  accountFingerprint,
  decideTransfer,
  entriesOf,
  type TransferRequest,
  transferFingerprint,
} from '../../../shared/domain/ledger.js';

const REGION = 'us-east-2';
function account(id: string, balance: bigint, overdraftLimit = 0n, extra: Partial<Account> = {}): Account {
  return {
    id,
    currency: 'USD',
    balance,
    overdraftLimit,
    version: 0n,
    homeRegion: REGION,
    fingerprint: 'f',
    createdAt: 't',
    updatedAt: 't',
    ...extra,
  };
}
function transfer(amount: bigint, extra: Partial<TransferRequest> = {}): TransferRequest {
  return { id: 't1', debitAccountId: 'a', creditAccountId: 'b', amount, currency: 'USD', ...extra };
}

describe('decideTransfer', () => {
  it('posts and moves the amount from debit to credit', () => {
    expect(decideTransfer(transfer(30n), account('a', 100n), account('b', 5n), REGION)).toEqual({
      outcome: 'post',
      debitBalanceAfter: 70n,
      creditBalanceAfter: 35n,
    });
  });

  it('allows a debit down to exactly -overdraftLimit and not one unit further', () => {
    const debit = account('a', 10n, 90n);
    expect(decideTransfer(transfer(100n), debit, account('b', 0n), REGION)).toMatchObject({
      outcome: 'post',
      debitBalanceAfter: -90n,
    });
    expect(decideTransfer(transfer(101n), debit, account('b', 0n), REGION)).toEqual({
      outcome: 'reject',
      reason: 'insufficient_funds',
    });
  });

  it('rejects same_account first, then account_not_found, then currency_mismatch', () => {
    expect(decideTransfer(transfer(1n, { creditAccountId: 'a' }), undefined, undefined, REGION)).toEqual({
      outcome: 'reject',
      reason: 'same_account',
    });
    expect(decideTransfer(transfer(1n), undefined, account('b', 0n), REGION)).toMatchObject({
      reason: 'account_not_found',
    });
    expect(decideTransfer(transfer(1n), account('a', 5n), undefined, REGION)).toMatchObject({
      reason: 'account_not_found',
    });
    expect(
      decideTransfer(transfer(1n), account('a', 5n), account('b', 0n, 0n, { currency: 'EUR' }), REGION),
    ).toMatchObject({ reason: 'currency_mismatch' });
    expect(
      decideTransfer(transfer(1n, { currency: 'EUR' }), account('a', 5n), account('b', 0n), REGION),
    ).toMatchObject({ reason: 'currency_mismatch' });
  });

  it('refuses to write an account homed in another region', () => {
    const remote = account('b', 0n, 0n, { homeRegion: 'ca-central-1' });
    expect(decideTransfer(transfer(1n), account('a', 5n), remote, REGION)).toEqual({
      outcome: 'not_home',
      accountId: 'b',
      homeRegion: 'ca-central-1',
    });
  });

  it('asserts a positive amount (validated at the edge)', () => {
    expect(() => decideTransfer(transfer(0n), account('a', 5n), account('b', 0n), REGION)).toThrow(
      RangeError,
    );
  });

  it('conserves money and never breaches the limit (property)', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: -(10n ** 20n), max: 10n ** 20n }),
        fc.bigInt({ min: 0n, max: 10n ** 19n }),
        fc.bigInt({ min: -(10n ** 20n), max: 10n ** 20n }),
        fc.bigInt({ min: 1n, max: 10n ** 19n - 1n }),
        (debitBalance, limit, creditBalance, amount) => {
          fc.pre(debitBalance >= -limit);
          const d = decideTransfer(
            transfer(amount),
            account('a', debitBalance, limit),
            account('b', creditBalance),
            REGION,
          );
          if (d.outcome === 'post') {
            expect(d.debitBalanceAfter + d.creditBalanceAfter).toBe(debitBalance + creditBalance);
            expect(d.debitBalanceAfter >= -limit).toBe(true);
            expect(d.debitBalanceAfter).toBe(debitBalance - amount);
          } else {
            expect(d).toEqual({ outcome: 'reject', reason: 'insufficient_funds' });
            expect(debitBalance - amount < -limit).toBe(true);
          }
        },
      ),
    );
  });

  it('a random sequence applied through the rules keeps the sum at zero and every account within its limit (property)', () => {
    const ids = ['a', 'b', 'c', 'd'];
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            from: fc.constantFrom(...ids),
            to: fc.constantFrom(...ids),
            amount: fc.bigInt({ min: 1n, max: 500n }),
          }),
          { maxLength: 200 },
        ),
        (ops) => {
          const limits: Record<string, bigint> = { a: 1000n, b: 0n, c: 50n, d: 0n };
          const book = new Map(ids.map((id) => [id, account(id, 0n, limits[id] ?? 0n)]));
          for (const [i, op] of ops.entries()) {
            const t = transfer(op.amount, { id: `t${i}`, debitAccountId: op.from, creditAccountId: op.to });
            const debit = book.get(op.from);
            const credit = book.get(op.to);
            const d = decideTransfer(t, debit, credit, REGION);
            if (d.outcome !== 'post' || debit === undefined || credit === undefined) continue;
            book.set(op.from, { ...debit, balance: d.debitBalanceAfter, version: debit.version + 1n });
            book.set(op.to, { ...credit, balance: d.creditBalanceAfter, version: credit.version + 1n });
          }
          const accounts = [...book.values()];
          expect(accounts.reduce((s, a) => s + a.balance, 0n)).toBe(0n);
          for (const a of accounts) expect(a.balance >= -a.overdraftLimit).toBe(true);
        },
      ),
    );
  });
});

describe('entriesOf', () => {
  it('writes one entry per side at the next version with the balance after', () => {
    const [debitEntry, creditEntry] = entriesOf(
      transfer(30n),
      account('a', 100n, 0n, { version: 4n }),
      account('b', 0n, 0n, { version: 9n }),
      { debitBalanceAfter: 70n, creditBalanceAfter: 30n },
      '2026-01-01T00:00:00.000Z',
    );
    expect(debitEntry).toMatchObject({
      accountId: 'a',
      version: 5n,
      direction: 'DEBIT',
      balanceAfter: 70n,
      counterpartyAccountId: 'b',
    });
    expect(creditEntry).toMatchObject({
      accountId: 'b',
      version: 10n,
      direction: 'CREDIT',
      balanceAfter: 30n,
      counterpartyAccountId: 'a',
    });
  });
});

describe('fingerprints', () => {
  it('match for the same request whatever the metadata key order', () => {
    const a = transferFingerprint(transfer(5n, { metadata: { x: '1', y: '2' } }));
    const b = transferFingerprint(transfer(5n, { metadata: { y: '2', x: '1' } }));
    expect(a).toBe(b);
  });
  it('differ when any field differs', () => {
    const base = transferFingerprint(transfer(5n));
    expect(transferFingerprint(transfer(6n))).not.toBe(base);
    expect(transferFingerprint(transfer(5n, { reference: 'r' }))).not.toBe(base);
    expect(transferFingerprint(transfer(5n, { creditAccountId: 'c' }))).not.toBe(base);
    expect(transferFingerprint(transfer(5n, { metadata: {} }))).not.toBe(base);
    const acct = { id: 'a', currency: 'USD', overdraftLimit: 0n };
    expect(accountFingerprint(acct)).toBe(accountFingerprint({ ...acct }));
    expect(accountFingerprint({ ...acct, overdraftLimit: 1n })).not.toBe(accountFingerprint(acct));
  });
});
