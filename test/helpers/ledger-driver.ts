import fc from 'fast-check';
import { type LedgerCommand, openAccountCommand, transferCommand } from '../../shared/domain/commands.js';
import {
  type Account,
  accountFingerprint,
  type Transfer,
  type TransferRequest,
  transferFingerprint,
} from '../../shared/domain/ledger.js';
import { expireRequestId, type LedgerState } from '../../shared/domain/planner.js';
import { type LedgerModel, type ModelAccount, type ModelTransfer, type Op, TICK_MS } from './ledger-model.js';

/** The accounts every generated run starts with: a funded treasury and four customers. */
export const MODEL_ACCOUNTS: Readonly<Record<string, bigint>> = {
  treasury: 1_000_000n,
  a: 0n,
  b: 50n,
  c: 0n,
  d: 100n,
};
export const MODEL_REGION = 'us-east-2';

/** Random operations over the model accounts, with a few ids reused on purpose. */
export function opsArbitrary(options: {
  ticks: boolean;
  reversals: boolean;
  maxLength: number;
}): fc.Arbitrary<Op[]> {
  // Weighted so that most transfers can succeed (the treasury funds the others), ids collide often
  // enough that captures, voids and reversals meet live holds and posted transfers, and a ghost
  // account and same-account transfers still show up.
  const account = fc.oneof(
    { arbitrary: fc.constant('treasury'), weight: 4 },
    { arbitrary: fc.constantFrom('a', 'b', 'c', 'd'), weight: 5 },
    { arbitrary: fc.constant('ghost'), weight: 1 },
  );
  const tid = fc.integer({ min: 0, max: 11 }).map((n) => `t${n}`);
  const amount = fc.bigInt({ min: 1n, max: 200n });
  const weighted = <T>(arbitrary: fc.Arbitrary<T>, weight: number) => ({ arbitrary, weight });
  const ops: { arbitrary: fc.Arbitrary<Op>; weight: number }[] = [
    weighted(
      fc.record({ kind: fc.constant('transfer' as const), id: tid, from: account, to: account, amount }),
      4,
    ),
    weighted(
      fc.record({
        kind: fc.constant('transfer' as const),
        id: tid,
        from: fc.oneof({ arbitrary: fc.constant('treasury'), weight: 3 }, { arbitrary: account, weight: 1 }),
        to: account,
        amount,
        holdSeconds: fc.integer({ min: 1, max: 8 }),
      }),
      3,
    ),
    weighted(fc.record({ kind: fc.constant('capture' as const), id: tid }), 2),
    weighted(fc.record({ kind: fc.constant('capture' as const), id: tid, amount }), 2),
    weighted(fc.record({ kind: fc.constant('void' as const), id: tid }), 2),
    weighted(fc.record({ kind: fc.constantFrom('freeze' as const, 'unfreeze' as const), account }), 1),
  ];
  if (options.ticks) ops.push(weighted(fc.constant({ kind: 'tick' as const }), 2));
  if (options.reversals)
    ops.push(
      weighted(fc.record({ kind: fc.constant('reverse' as const), id: tid.map((t) => `r${t}`), of: tid }), 2),
    );
  return fc.array(fc.oneof(...ops), { maxLength: options.maxLength }).map(aimAtEarlierOps);
}

/**
 * Points most captures and voids at an earlier hold, and reversals at an earlier transfer (the
 * generated id picks which one), so the sequences exercise live holds and posted transfers rather
 * than mostly unknown ids; every fourth keeps its random id to cover those cases too.
 */
function aimAtEarlierOps(ops: Op[]): Op[] {
  const holds: string[] = [];
  const transfers: string[] = [];
  return ops.map((op, i) => {
    if (op.kind === 'transfer') {
      (op.holdSeconds === undefined ? transfers : holds).push(op.id);
      return op;
    }
    const pick = (pool: string[], id: string) => {
      const n = Number(id.replace(/\D/g, ''));
      return pool.length === 0 || i % 4 === 3 ? id : (pool[pool.length - 1 - (n % pool.length)] ?? id);
    };
    if (op.kind === 'capture' || op.kind === 'void') return { ...op, id: pick(holds, op.id) };
    if (op.kind === 'reverse') return { ...op, of: pick(transfers, op.of) };
    return op;
  });
}

/** What the ingest would record and enqueue for one operation, given the ledger as the API sees it. */
export interface Submission {
  readonly accepted?: { readonly request: TransferRequest; readonly fingerprint: string };
  readonly commands: readonly LedgerCommand[];
}

let updateCounter = 0;

export function openingCommands(at: string): LedgerCommand[] {
  return Object.entries(MODEL_ACCOUNTS).map(([id, limit]) => {
    const spec = { id, currency: 'USD', overdraftLimit: limit };
    return openAccountCommand(spec, MODEL_REGION, accountFingerprint(spec), at);
  });
}

/**
 * Translates an operation into commands as the API would (request-time checks included: a
 * reversal of a transfer that is not POSTED is refused, a tick expires the holds past due).
 * `model` is the state before the operation; `known` says which transfer ids were accepted.
 */
export function submissionFor(
  op: Op,
  model: LedgerModel,
  known: ReadonlySet<string>,
  at: string,
): Submission {
  switch (op.kind) {
    case 'transfer': {
      if (known.has(op.id)) return { commands: [] };
      const request: TransferRequest = {
        id: op.id,
        debitAccountId: op.from,
        creditAccountId: op.to,
        amount: op.amount,
        currency: 'USD',
        ...(op.holdSeconds === undefined ? {} : { holdTimeoutSeconds: op.holdSeconds }),
      };
      return accept(request, at);
    }
    case 'reverse': {
      const original = model.transfers.get(op.of);
      const amount = model.reversalAmount(op.of);
      if (known.has(op.id) || original === undefined || amount === undefined) return { commands: [] };
      return accept(
        {
          id: op.id,
          debitAccountId: original.to,
          creditAccountId: original.from,
          amount,
          currency: 'USD',
          reversalOf: op.of,
        },
        at,
      );
    }
    case 'capture':
    case 'void': {
      const t = model.transfers.get(op.id);
      if (t === undefined) return { commands: [] };
      const requestId =
        op.kind === 'void' ? `void:${op.id}` : `capture:${op.id}:${op.amount?.toString() ?? 'all'}`;
      return {
        commands: [
          {
            v: 1,
            type: op.kind,
            transferId: op.id,
            debitAccountId: t.from,
            requestId,
            requestedAt: at,
            ...(op.kind === 'capture' && op.amount !== undefined ? { amount: op.amount.toString() } : {}),
          },
        ],
      };
    }
    case 'freeze':
    case 'unfreeze':
      return {
        commands: [
          {
            v: 1,
            type: 'update_account',
            accountId: op.account,
            requestId: `u${updateCounter++}`,
            requestedAt: at,
            status: op.kind === 'freeze' ? 'FROZEN' : 'OPEN',
          },
        ],
      };
    case 'tick': {
      const due = [...model.transfers].filter(
        ([, t]) => t.status === 'HELD' && (t.expiresAt ?? 0) <= model.now + TICK_MS,
      );
      return {
        commands: due.map(([id, t]) => ({
          v: 1 as const,
          type: 'expire' as const,
          transferId: id,
          debitAccountId: t.from,
          requestId: expireRequestId(id),
          requestedAt: at,
        })),
      };
    }
  }
}

function accept(request: TransferRequest, at: string): Submission {
  const fingerprint = transferFingerprint(request);
  return { accepted: { request, fingerprint }, commands: [transferCommand(request, fingerprint, at)] };
}

export function acceptedTransfer(request: TransferRequest, fingerprint: string, at: string): Transfer {
  return { ...request, fingerprint, acceptedAt: at, status: 'ACCEPTED', revision: 0n };
}

/** The ledger's state seen through the model's eyes, for comparison. */
export function project(state: LedgerState): {
  accounts: Record<string, ModelAccount>;
  transfers: Record<string, ModelTransfer>;
} {
  const accounts: Record<string, ModelAccount> = {};
  for (const a of state.accounts.values()) accounts[a.id] = projectAccount(a);
  const transfers: Record<string, ModelTransfer> = {};
  for (const t of state.transfers.values()) {
    transfers[t.id] = {
      status: t.status,
      ...(t.reason === undefined ? {} : { reason: t.reason }),
      from: t.debitAccountId,
      to: t.creditAccountId,
      amount: t.amount,
      ...(t.capturedAmount === undefined ? {} : { captured: t.capturedAmount }),
      ...(t.reversedBy === undefined ? {} : { reversedBy: t.reversedBy }),
      ...(t.reversalOf === undefined ? {} : { reversalOf: t.reversalOf }),
    };
  }
  return { accounts, transfers };
}

export function projectAccount(a: Account): ModelAccount {
  return { balance: a.balance, held: a.heldAmount, limit: a.overdraftLimit, status: a.status };
}

export function projectModel(model: LedgerModel): ReturnType<typeof project> {
  const transfers: Record<string, ModelTransfer> = {};
  for (const [id, t] of model.transfers) {
    const { expiresAt: _expiresAt, ...rest } = t;
    transfers[id] = rest;
  }
  return { accounts: Object.fromEntries(model.accounts), transfers };
}
