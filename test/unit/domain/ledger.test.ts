import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type Account,
  accountFingerprint,
  decideTransfer,
  type TransferRequest,
  transferFingerprint,
} from '../../../shared/domain/ledger.js';

const REGION = 'us-east-2';
function account(id: string, balance: bigint, overdraftLimit = 0n, extra: Partial<Account> = {}): Account {
  return {
    id,
    currency: 'USD',
    balance,
    heldAmount: 0n,
    status: 'OPEN',
    overdraftLimit,
    version: 0n,
    homeRegion: REGION,
    epoch: 1n,
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
  it('posts when the debit account can afford it', () => {
    expect(decideTransfer(transfer(30n), account('a', 100n), account('b', 5n), REGION)).toEqual({
      outcome: 'post',
    });
  });

  it('counts active holds against the available balance', () => {
    const held = account('a', 100n, 0n, { heldAmount: 80n });
    expect(decideTransfer(transfer(20n), held, account('b', 0n), REGION)).toEqual({ outcome: 'post' });
    expect(decideTransfer(transfer(21n), held, account('b', 0n), REGION)).toEqual({
      outcome: 'reject',
      reason: 'insufficient_funds',
    });
  });

  it('rejects frozen and closed accounts on either side, before currency and funds', () => {
    const frozen = account('b', 0n, 0n, { status: 'FROZEN', currency: 'EUR' });
    expect(decideTransfer(transfer(1n), account('a', 5n), frozen, REGION)).toEqual({
      outcome: 'reject',
      reason: 'account_frozen',
    });
    const closed = account('a', 0n, 0n, { status: 'CLOSED' });
    expect(decideTransfer(transfer(1n), closed, account('b', 0n), REGION)).toEqual({
      outcome: 'reject',
      reason: 'account_closed',
    });
  });

  it('allows a debit down to exactly -overdraftLimit and not one unit further', () => {
    const debit = account('a', 10n, 90n);
    expect(decideTransfer(transfer(100n), debit, account('b', 0n), REGION)).toEqual({ outcome: 'post' });
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

  it('never debits an account homed in another region', () => {
    const remote = account('a', 5n, 0n, { homeRegion: 'ca-central-1' });
    expect(decideTransfer(transfer(1n), remote, account('b', 0n), REGION)).toEqual({
      outcome: 'not_home',
      accountId: 'a',
      homeRegion: 'ca-central-1',
    });
  });

  it('credits an account homed elsewhere in two steps, judging its status there', () => {
    const remote = account('b', 0n, 0n, { homeRegion: 'ca-central-1', status: 'FROZEN' });
    expect(decideTransfer(transfer(1n), account('a', 5n), remote, REGION)).toEqual({
      outcome: 'post_cross_region',
      creditRegion: 'ca-central-1',
    });
    expect(decideTransfer(transfer(9n), account('a', 5n), remote, REGION)).toMatchObject({
      reason: 'insufficient_funds',
    });
  });

  it('asserts a positive amount (validated at the edge)', () => {
    expect(() => decideTransfer(transfer(0n), account('a', 5n), account('b', 0n), REGION)).toThrow(
      RangeError,
    );
  });

  it('posts exactly when the limit allows it (property)', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: -(10n ** 20n), max: 10n ** 20n }),
        fc.bigInt({ min: 0n, max: 10n ** 19n }),
        fc.bigInt({ min: 0n, max: 10n ** 19n }),
        fc.bigInt({ min: 1n, max: 10n ** 19n - 1n }),
        (balance, limit, held, amount) => {
          const d = decideTransfer(
            transfer(amount),
            account('a', balance, limit, { heldAmount: held }),
            account('b', 0n),
            REGION,
          );
          expect(d.outcome === 'post').toBe(balance - held - amount >= -limit);
        },
      ),
    );
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
