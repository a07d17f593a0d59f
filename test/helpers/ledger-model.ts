/**
 * An independent reference model of the ledger's rules, written plainly from the issue text (no
 * code shared with shared/domain): the planner and the real consumer must end in its state.
 */
export type Op =
  | { kind: 'transfer'; id: string; from: string; to: string; amount: bigint; holdSeconds?: number }
  | { kind: 'capture'; id: string; amount?: bigint }
  | { kind: 'void'; id: string }
  | { kind: 'reverse'; id: string; of: string }
  | { kind: 'freeze' | 'unfreeze'; account: string }
  /** Time passes 2 s; the sweeper expires every hold past its timeout. */
  | { kind: 'tick' };

export interface ModelAccount {
  balance: bigint;
  held: bigint;
  limit: bigint;
  status: 'OPEN' | 'FROZEN' | 'CLOSED';
}
export interface ModelTransfer {
  status: string;
  reason?: string;
  from: string;
  to: string;
  amount: bigint;
  expiresAt?: number;
  captured?: bigint;
  reversedBy?: string;
  reversalOf?: string;
}

export const TICK_MS = 2_000;

export class LedgerModel {
  readonly accounts = new Map<string, ModelAccount>();
  readonly transfers = new Map<string, ModelTransfer>();
  now = Date.parse('2026-01-01T00:00:00.000Z');

  open(id: string, limit: bigint): void {
    this.accounts.set(id, { balance: 0n, held: 0n, limit, status: 'OPEN' });
  }

  /** The amount a reversal of `of` would move, or undefined when the API would refuse it (409). */
  reversalAmount(of: string): bigint | undefined {
    const t = this.transfers.get(of);
    if (t === undefined || t.status !== 'POSTED' || t.reversalOf !== undefined || t.reversedBy !== undefined)
      return undefined;
    return t.captured ?? t.amount;
  }

  apply(op: Op): void {
    switch (op.kind) {
      case 'transfer':
        this.transfer(op.id, op.from, op.to, op.amount, op.holdSeconds);
        return;
      case 'reverse': {
        const original = this.transfers.get(op.of);
        const amount = this.reversalAmount(op.of);
        if (original === undefined || amount === undefined) return;
        this.transfer(op.id, original.to, original.from, amount, undefined, op.of);
        return;
      }
      case 'capture':
        this.capture(op.id, op.amount);
        return;
      case 'void':
        this.endHold(op.id, 'VOIDED');
        return;
      case 'freeze':
      case 'unfreeze': {
        const a = this.accounts.get(op.account);
        if (a !== undefined && a.status !== 'CLOSED') a.status = op.kind === 'freeze' ? 'FROZEN' : 'OPEN';
        return;
      }
      case 'tick':
        this.now += TICK_MS;
        for (const [id, t] of this.transfers)
          if (t.status === 'HELD' && (t.expiresAt ?? 0) <= this.now) this.endHold(id, 'EXPIRED');
    }
  }

  private transfer(
    id: string,
    from: string,
    to: string,
    amount: bigint,
    holdSeconds?: number,
    reversalOf?: string,
  ): void {
    if (this.transfers.has(id)) return;
    const t: ModelTransfer = {
      status: 'REJECTED',
      from,
      to,
      amount,
      ...(reversalOf === undefined ? {} : { reversalOf }),
    };
    this.transfers.set(id, t);
    const d = this.accounts.get(from);
    const c = this.accounts.get(to);
    if (reversalOf !== undefined) {
      const o = this.transfers.get(reversalOf);
      if (o === undefined || o.status !== 'POSTED' || o.reversedBy !== undefined) {
        t.reason = 'transfer_not_reversible';
        return;
      }
    }
    if (from === to) {
      t.reason = 'same_account';
      return;
    }
    if (d === undefined || c === undefined) {
      t.reason = 'account_not_found';
      return;
    }
    const blocked = [d, c].find((a) => a.status !== 'OPEN');
    if (blocked !== undefined) {
      t.reason = blocked.status === 'FROZEN' ? 'account_frozen' : 'account_closed';
      return;
    }
    if (d.balance - d.held - amount < -d.limit) {
      t.reason = 'insufficient_funds';
      return;
    }
    if (holdSeconds !== undefined) {
      d.held += amount;
      t.status = 'HELD';
      t.expiresAt = this.now + holdSeconds * 1000;
      return;
    }
    d.balance -= amount;
    c.balance += amount;
    t.status = 'POSTED';
    if (reversalOf !== undefined) {
      const o = this.transfers.get(reversalOf);
      if (o !== undefined) o.reversedBy = id;
    }
  }

  private capture(id: string, amount: bigint | undefined): void {
    const t = this.transfers.get(id);
    if (t === undefined || t.status !== 'HELD') return;
    if ((t.expiresAt ?? 0) <= this.now) {
      this.endHold(id, 'EXPIRED');
      return;
    }
    const captured = amount ?? t.amount;
    const d = this.accounts.get(t.from);
    const c = this.accounts.get(t.to);
    if (captured > t.amount || d === undefined || c === undefined) return;
    if (d.status !== 'OPEN' || c.status !== 'OPEN') return;
    d.held -= t.amount;
    d.balance -= captured;
    c.balance += captured;
    t.status = 'POSTED';
    t.captured = captured;
  }

  private endHold(id: string, status: 'VOIDED' | 'EXPIRED'): void {
    const t = this.transfers.get(id);
    if (t === undefined || t.status !== 'HELD') return;
    if (status === 'VOIDED' && (t.expiresAt ?? 0) <= this.now) status = 'EXPIRED';
    const d = this.accounts.get(t.from);
    if (d !== undefined) d.held -= t.amount;
    t.status = status;
  }
}
