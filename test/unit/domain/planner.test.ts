import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { atomicGroupCommand, type LedgerCommand, transferCommand } from '../../../shared/domain/commands.js';
import {
  availableBalance,
  type TransferRequest,
  transferFingerprint,
} from '../../../shared/domain/ledger.js';
import { applyWrites, type LedgerState, planBatch } from '../../../shared/domain/planner.js';
import {
  acceptedTransfer,
  MODEL_REGION,
  openingCommands,
  opsArbitrary,
  project,
  projectModel,
  submissionFor,
} from '../../helpers/ledger-driver.js';
import { LedgerModel, type Op, TICK_MS } from '../../helpers/ledger-model.js';

const T0 = '2026-01-01T00:00:00.000Z';
const empty = (): LedgerState => ({ accounts: new Map(), transfers: new Map() });

function record(state: LedgerState, request: TransferRequest, fingerprint: string, at: string): LedgerState {
  const transfers = new Map(state.transfers).set(request.id, acceptedTransfer(request, fingerprint, at));
  return { accounts: state.accounts, transfers };
}

function plan(state: LedgerState, commands: readonly LedgerCommand[], now = T0) {
  const result = planBatch(commands, state, { region: MODEL_REGION, now });
  return { ...result, state: applyWrites(state, result.writes) };
}

function opened(): LedgerState {
  return plan(empty(), openingCommands(T0)).state;
}

/** Runs ops one by one through the planner, as the consumer applies one record at a time. */
function runSequential(ops: readonly Op[]): { model: LedgerModel; state: LedgerState } {
  const model = new LedgerModel();
  let state = opened();
  for (const [id, limit] of Object.entries({ treasury: 1_000_000n, a: 0n, b: 50n, c: 0n, d: 100n }))
    model.open(id, limit);
  const known = new Set<string>();
  for (const op of ops) {
    const at = new Date(model.now + (op.kind === 'tick' ? TICK_MS : 0)).toISOString();
    const s = submissionFor(op, model, known, at);
    if (s.accepted !== undefined) {
      state = record(state, s.accepted.request, s.accepted.fingerprint, at);
      known.add(s.accepted.request.id);
    }
    for (const command of s.commands) state = plan(state, [command], at).state;
    model.apply(op);
  }
  return { model, state };
}

describe('planner against the reference model', () => {
  it('ends in the model state after any sequence of transfers, holds, captures, voids, expiries, reversals and freezes (property)', () => {
    fc.assert(
      fc.property(opsArbitrary({ ticks: true, reversals: true, maxLength: 60 }), (ops) => {
        const { model, state } = runSequential(ops);
        expect(project(state)).toEqual(projectModel(model));
        // Invariants, whatever happened: conservation, holds accounted, limits kept.
        const accounts = [...state.accounts.values()];
        expect(accounts.reduce((sum, a) => sum + a.balance, 0n)).toBe(0n);
        for (const a of accounts) {
          const held = [...state.transfers.values()]
            .filter((t) => t.status === 'HELD' && t.debitAccountId === a.id)
            .reduce((sum, t) => sum + t.amount, 0n);
          expect(a.heldAmount).toBe(held);
          expect(availableBalance(a) >= -a.overdraftLimit).toBe(true);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('is fed sequences that reach every outcome: captures, voids, expiries, reversals (generator coverage)', () => {
    const seen: Record<string, number> = {};
    for (const ops of fc.sample(opsArbitrary({ ticks: true, reversals: true, maxLength: 60 }), {
      numRuns: 300,
      seed: 20261124,
    })) {
      const { model } = runSequential(ops);
      for (const t of model.transfers.values()) {
        const kind =
          t.captured !== undefined
            ? 'CAPTURED'
            : t.reversalOf !== undefined
              ? `REVERSAL_${t.status}`
              : t.status;
        seen[kind] = (seen[kind] ?? 0) + 1;
      }
    }
    for (const kind of ['POSTED', 'REJECTED', 'HELD', 'CAPTURED', 'VOIDED', 'EXPIRED', 'REVERSAL_POSTED']) {
      expect(seen[kind] ?? 0, `${kind} in ${JSON.stringify(seen)}`).toBeGreaterThanOrEqual(5);
    }
  });
});

describe('coalescing: a batch planned at once equals the same commands one by one', () => {
  it('gives every command the same outcome and the ledger the same state, writing each account once (property)', () => {
    fc.assert(
      fc.property(opsArbitrary({ ticks: false, reversals: false, maxLength: 40 }), (ops) => {
        const model = new LedgerModel();
        let recorded = opened();
        const known = new Set<string>();
        const commands: LedgerCommand[] = [];
        for (const op of ops) {
          const s = submissionFor(op, model, known, T0);
          if (s.accepted !== undefined) {
            recorded = record(recorded, s.accepted.request, s.accepted.fingerprint, T0);
            known.add(s.accepted.request.id);
          }
          commands.push(...s.commands);
          model.apply(op);
        }
        let oneByOne = recorded;
        const sequentialOutcomes = commands.map((c) => {
          const r = plan(oneByOne, [c]);
          oneByOne = r.state;
          return r.outcomes[0];
        });
        const batch = plan(recorded, commands);
        expect(batch.outcomes).toEqual(sequentialOutcomes);
        expect(project(batch.state)).toEqual(project(oneByOne));
        const written = batch.writes.accounts.map((a) => a.after.id);
        expect(new Set(written).size).toBe(written.length);
        expect(batch.writes.pages.length).toBeLessThanOrEqual(written.length);
      }),
      { numRuns: 300 },
    );
  });

  it('writes a hot account once for a whole batch, and still rejects the one transfer that would overdraw', () => {
    let state = opened();
    const commands: LedgerCommand[] = [];
    for (let i = 0; i < 10; i++) {
      const request: TransferRequest = {
        id: `hot${i}`,
        debitAccountId: 'treasury',
        creditAccountId: 'a',
        amount: 10n,
        currency: 'USD',
      };
      const fp = transferFingerprint(request);
      state = record(state, request, fp, T0);
      commands.push(transferCommand(request, fp, T0));
    }
    const overdraw: TransferRequest = {
      id: 'over',
      debitAccountId: 'a',
      creditAccountId: 'c',
      amount: 101n,
      currency: 'USD',
    };
    state = record(state, overdraw, transferFingerprint(overdraw), T0);
    commands.push(transferCommand(overdraw, transferFingerprint(overdraw), T0));
    const r = plan(state, commands);
    expect(r.outcomes.map((o) => o.status)).toEqual([...Array(10).fill('posted'), 'rejected']);
    expect(r.writes.accounts.map((a) => a.after.id).sort()).toEqual(['a', 'treasury']);
    const page = r.writes.pages.find((p) => p.accountId === 'a');
    expect(page?.lines.map((l) => l.balanceAfter)).toEqual([
      10n,
      20n,
      30n,
      40n,
      50n,
      60n,
      70n,
      80n,
      90n,
      100n,
    ]);
    expect(r.state.accounts.get('a')).toMatchObject({ balance: 100n, version: 1n });
  });
});

describe('atomic groups', () => {
  function group(legs: TransferRequest[]) {
    let state = opened();
    const withGroup = legs.map((l) => ({ ...l, groupId: 'g1' }));
    const entries = withGroup.map((request) => ({ request, fingerprint: transferFingerprint(request) }));
    for (const e of entries) state = record(state, e.request, e.fingerprint, T0);
    return plan(state, [atomicGroupCommand('g1', entries, T0)]);
  }
  const leg = (id: string, from: string, to: string, amount: bigint): TransferRequest => ({
    id,
    debitAccountId: from,
    creditAccountId: to,
    amount,
    currency: 'USD',
  });

  it('posts every leg, a later leg spending what an earlier one credited', () => {
    const r = group([leg('l1', 'treasury', 'a', 100n), leg('l2', 'a', 'c', 60n), leg('l3', 'a', 'd', 40n)]);
    expect(r.outcomes).toEqual([{ status: 'posted' }]);
    expect(r.state.accounts.get('a')?.balance).toBe(0n);
    expect(r.state.accounts.get('c')?.balance).toBe(60n);
    expect(r.writes.accounts.find((a) => a.after.id === 'a')?.after.version).toBe(1n);
  });

  it('rejects every leg when one fails: the failing one with its reason, the others linked_transfer_failed', () => {
    const r = group([
      leg('l1', 'treasury', 'a', 100n),
      leg('l2', 'a', 'c', 101n),
      leg('l3', 'treasury', 'd', 5n),
    ]);
    expect(r.outcomes).toEqual([{ status: 'rejected', reason: 'insufficient_funds' }]);
    expect([...r.state.transfers.values()].map((t) => [t.id, t.status, t.reason])).toEqual([
      ['l1', 'REJECTED', 'linked_transfer_failed'],
      ['l2', 'REJECTED', 'insufficient_funds'],
      ['l3', 'REJECTED', 'linked_transfer_failed'],
    ]);
    expect(r.writes.accounts).toEqual([]);
    expect(r.writes.pages).toEqual([]);
  });
});

describe('account controls', () => {
  const update = (status: 'OPEN' | 'FROZEN' | 'CLOSED' | undefined, limit?: string): LedgerCommand => ({
    v: 1,
    type: 'update_account',
    accountId: 'a',
    requestId: `req-${status}-${limit}`,
    requestedAt: T0,
    ...(status === undefined ? {} : { status }),
    ...(limit === undefined ? {} : { overdraftLimit: limit }),
  });

  it('closes only an empty account, and a closed account stays closed', () => {
    const request: TransferRequest = {
      id: 'f',
      debitAccountId: 'treasury',
      creditAccountId: 'a',
      amount: 5n,
      currency: 'USD',
    };
    let state = record(opened(), request, transferFingerprint(request), T0);
    state = plan(state, [transferCommand(request, transferFingerprint(request), T0)]).state;
    const refused = plan(state, [update('CLOSED')]);
    expect(refused.outcomes).toEqual([{ status: 'rejected', reason: 'account_not_empty' }]);
    expect(refused.state.accounts.get('a')?.lastRequest).toEqual({
      requestId: 'req-CLOSED-undefined',
      outcome: 'refused',
      reason: 'account_not_empty',
    });
    const closed = plan(opened(), [update('CLOSED')]);
    expect(closed.state.accounts.get('a')?.status).toBe('CLOSED');
    expect(plan(closed.state, [update('OPEN')]).outcomes).toEqual([
      { status: 'rejected', reason: 'account_closed' },
    ]);
  });

  it('refuses a limit below what the account already uses', () => {
    const request: TransferRequest = {
      id: 'o',
      debitAccountId: 'd',
      creditAccountId: 'a',
      amount: 80n,
      currency: 'USD',
    };
    let state = record(opened(), request, transferFingerprint(request), T0);
    state = plan(state, [transferCommand(request, transferFingerprint(request), T0)]).state;
    const d = (limit: string): LedgerCommand => ({
      v: 1,
      type: 'update_account',
      accountId: 'd',
      requestId: `l${limit}`,
      requestedAt: T0,
      overdraftLimit: limit,
    });
    expect(plan(state, [d('79')]).outcomes).toEqual([{ status: 'rejected', reason: 'limit_below_balance' }]);
    expect(plan(state, [d('80')]).outcomes).toEqual([{ status: 'updated' }]);
  });
});

describe('regressions found by the in-memory API tests', () => {
  it('lets an ignored capture (it arrived before its hold) apply when retried after the hold', () => {
    const hold: TransferRequest = {
      id: 'h',
      debitAccountId: 'treasury',
      creditAccountId: 'a',
      amount: 30n,
      currency: 'USD',
      holdTimeoutSeconds: 60,
    };
    const fp = transferFingerprint(hold);
    let state = record(opened(), hold, fp, T0);
    const capture: LedgerCommand = {
      v: 1,
      type: 'capture',
      transferId: 'h',
      debitAccountId: 'treasury',
      requestId: 'capture:h:all',
      requestedAt: T0,
    };
    const early = plan(state, [capture]);
    expect(early.outcomes).toEqual([{ status: 'ignored', reason: 'hold_not_active' }]);
    state = plan(early.state, [transferCommand(hold, fp, T0)]).state;
    const retried = plan(state, [capture]);
    expect(retried.outcomes).toEqual([{ status: 'captured' }]);
    expect(retried.state.accounts.get('a')?.balance).toBe(30n);
    expect(plan(retried.state, [capture]).outcomes).toEqual([{ status: 'duplicate' }]);
  });

  it('never applies a subset of an atomic batch after the reconciler re-enqueued a leg on its own', () => {
    const legs = [
      {
        id: 'g1',
        debitAccountId: 'treasury',
        creditAccountId: 'a',
        amount: 10n,
        currency: 'USD',
        groupId: 'g',
      },
      {
        id: 'g2',
        debitAccountId: 'treasury',
        creditAccountId: 'c',
        amount: 10n,
        currency: 'USD',
        groupId: 'g',
      },
    ] satisfies TransferRequest[];
    const entries = legs.map((request) => ({ request, fingerprint: transferFingerprint(request) }));
    let state = opened();
    for (const e of entries) state = record(state, e.request, e.fingerprint, T0);
    const [, second] = entries;
    if (second === undefined) throw new Error('two legs expected');
    const orphan = plan(state, [transferCommand(second.request, second.fingerprint, T0)]);
    expect(orphan.outcomes).toEqual([{ status: 'rejected', reason: 'linked_transfer_failed' }]);
    const late = plan(orphan.state, [atomicGroupCommand('g', entries, T0)]);
    expect(late.outcomes).toEqual([{ status: 'rejected', reason: 'linked_transfer_failed' }]);
    expect([...late.state.transfers.values()].map((t) => t.status)).toEqual(['REJECTED', 'REJECTED']);
    expect(late.writes.accounts).toEqual([]);
  });
});
