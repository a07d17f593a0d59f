import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  atomicGroupCommand,
  commandIdOf,
  HOPS_MAX,
  type HoldActionCommand,
  type LedgerCommand,
  openAccountCommand,
  partitionKeyOf,
  transferCommand,
  transferRequestOf,
} from '../../../shared/domain/commands.js';
import {
  type Account,
  accountFingerprint,
  availableBalance,
  type CreditLeg,
  clearingAccountId,
  isClearingAccount,
  type JournalLine,
  type JournalPage,
  type Transfer,
  type TransferRequest,
  transferFingerprint,
} from '../../../shared/domain/ledger.js';
import {
  applyWrites,
  type CommandOutcome,
  type LedgerState,
  planBatch,
  type WriteSet,
} from '../../../shared/domain/planner.js';
import { acceptedTransfer } from '../../helpers/ledger-driver.js';

// ---- a two-region harness ---------------------------------------------------------------
//
// Each region has its own replica of the table (a LedgerState) and its own stream (the part of
// the outbox addressed to it). A delivery plans one command in one region, commits the write set
// there and replicates it to the other replica (each item has one writer, so the newer copy wins);
// the plan's emits and forwards go to the home region of their partition account as the sending
// region's replica sees it, recording a transfer's ACCEPTED record there first (the router does).

const EAST = 'us-east-2';
const WEST = 'eu-west-1';
type Region = typeof EAST | typeof WEST;
const REGIONS: readonly Region[] = [EAST, WEST];
const T0_MS = Date.parse('2026-01-01T00:00:00.000Z');
/** Bound of one drain; a run that needs more is a message storm (a bug), not a slow test. */
const DELIVERIES_MAX = 5_000;

interface AccountSeed {
  readonly id: string;
  readonly home: Region;
  readonly currency?: string;
  readonly limit?: bigint;
  readonly status?: 'FROZEN' | 'CLOSED';
}

/** A command on its way to one region's stream. */
interface Envelope {
  readonly region: Region;
  readonly command: LedgerCommand;
}

interface Delivery extends Envelope {
  readonly outcome: CommandOutcome;
  readonly writes: WriteSet;
  /** What the plan sent on (emits and forwards). */
  readonly sent: readonly LedgerCommand[];
}

/** How a drain picks the next message and whether it leaves a copy behind (a redelivery). */
interface Schedule {
  next(waiting: number): number;
  again(envelope: Envelope): boolean;
}

const IN_ORDER: Schedule = { next: () => 0, again: () => false };

/** Every message delivered twice: each one is put back once, right after its first delivery. */
function everyMessageTwice(): Schedule {
  const seen = new WeakSet<Envelope>();
  return {
    next: () => 0,
    again: (envelope) => {
      if (seen.has(envelope)) return false;
      seen.add(envelope);
      return true;
    },
  };
}

class TwoRegions {
  readonly outbox: Envelope[] = [];
  readonly deliveries: Delivery[] = [];
  readonly pages: JournalPage[] = [];
  private readonly states = new Map<Region, LedgerState>(
    REGIONS.map((r) => [r, { accounts: new Map(), transfers: new Map(), legs: new Map() }]),
  );
  private clockMs = T0_MS;

  /** Opens every account at its home (through the planner), then forgets those deliveries. */
  constructor(seeds: readonly AccountSeed[]) {
    for (const seed of seeds) {
      const spec = { id: seed.id, currency: seed.currency ?? 'USD', overdraftLimit: seed.limit ?? 0n };
      const open = openAccountCommand(spec, seed.home, accountFingerprint(spec), this.now());
      expectStatus(this.deliver({ region: seed.home, command: open }), 'opened');
      if (seed.status === undefined) continue;
      const update: LedgerCommand = {
        v: 1,
        type: 'update_account',
        accountId: seed.id,
        requestId: `status:${seed.id}`,
        requestedAt: this.now(),
        status: seed.status,
      };
      expectStatus(this.deliver({ region: seed.home, command: update }), 'updated');
    }
    this.deliveries.length = 0;
  }

  state(region: Region): LedgerState {
    const state = this.states.get(region);
    if (state === undefined) throw new Error(`no region ${region}`);
    return state;
  }

  /** An account as its home region holds it (the one copy that is written). */
  account(id: string): Account {
    for (const region of REGIONS) {
      const a = this.state(region).accounts.get(id);
      if (a !== undefined && a.homeRegion === region) return a;
    }
    throw new Error(`account ${id} is not held by its home region`);
  }

  /** A transfer record: the copy written last (its debit account's home writes it). */
  transfer(id: string): Transfer {
    const copies = REGIONS.map((r) => this.state(r).transfers.get(id)).filter((t) => t !== undefined);
    const latest = copies.reduce<Transfer | undefined>(
      (best, t) => (best === undefined || t.revision > best.revision ? t : best),
      undefined,
    );
    if (latest === undefined) throw new Error(`transfer ${id} was never recorded`);
    return latest;
  }

  leg(region: Region, transferId: string): CreditLeg | undefined {
    return this.state(region).legs?.get(transferId);
  }

  lines(accountId: string): JournalLine[] {
    return this.pages.filter((p) => p.accountId === accountId).flatMap((p) => p.lines);
  }

  /** Plants a copy of an account in one replica only: a stale or diverging replica. */
  plant(region: Region, account: Account): void {
    const state = this.state(region);
    this.states.set(region, { ...state, accounts: new Map(state.accounts).set(account.id, account) });
  }

  /**
   * Puts a command on a stream, as the ingest or the router would: the home region of its
   * partition account per the replica of `at` (or `at` itself when `routed` is false: a stale
   * route), recording a transfer's ACCEPTED record there first.
   */
  send(command: LedgerCommand, options: { at?: Region; routed?: boolean } = {}): Envelope {
    const at = options.at ?? this.homeSeenFrom(EAST, command) ?? EAST;
    const region = options.routed === false ? at : (this.homeSeenFrom(at, command) ?? at);
    const envelope = { region, command };
    this.record(envelope);
    this.outbox.push(envelope);
    return envelope;
  }

  submit(request: TransferRequest, options: { at?: Region; routed?: boolean } = {}): Envelope {
    const command = transferCommand(request, transferFingerprint(request), this.now());
    return this.send(command, options);
  }

  /** Plans one command in one region, commits it there, replicates it, and routes what it sends. */
  deliver(envelope: Envelope): Delivery {
    const { region, command } = envelope;
    const plan = planBatch([command], this.state(region), { region, now: this.now() });
    const [outcome] = plan.outcomes;
    if (outcome === undefined) throw new Error('planBatch returned no outcome');
    expectConserved(plan.writes);
    expectUnchangedSinceRead(this.state(region), plan.writes);
    this.states.set(region, applyWrites(this.state(region), plan.writes));
    for (const other of REGIONS.filter((r) => r !== region))
      this.states.set(other, replicate(this.state(other), plan.writes));
    this.pages.push(...plan.writes.pages);
    const sent = [...plan.forwards, ...plan.emits];
    for (const c of sent) {
      const to = { region: this.homeSeenFrom(region, c) ?? region, command: c };
      this.record(to);
      this.outbox.push(to);
    }
    const delivery = { region, command, outcome, writes: plan.writes, sent };
    this.deliveries.push(delivery);
    this.expectRegionsBalanced();
    return delivery;
  }

  /** Delivers the message at the head of the outbox. */
  deliverNext(): Delivery {
    const envelope = this.outbox.shift();
    if (envelope === undefined) throw new Error('nothing to deliver');
    return this.deliver(envelope);
  }

  /** Delivers until nothing is on its way; returns what was delivered. */
  drain(schedule: Schedule = IN_ORDER): Delivery[] {
    const start = this.deliveries.length;
    for (let n = 0; this.outbox.length > 0; n++) {
      if (n >= DELIVERIES_MAX) throw new Error(`still ${this.outbox.length} messages after ${n} deliveries`);
      const [envelope] = this.outbox.splice(schedule.next(this.outbox.length), 1);
      if (envelope === undefined) throw new Error('the schedule picked no message');
      if (schedule.again(envelope)) this.outbox.push(envelope);
      this.deliver(envelope);
    }
    return this.deliveries.slice(start);
  }

  /** Per currency, the balances of the accounts a region is home to (clearing included). */
  sums(region: Region): Record<string, bigint> {
    return sumByCurrency([...this.state(region).accounts.values()].filter((a) => a.homeRegion === region));
  }

  /** Per currency, the clearing accounts of both regions together. */
  clearingNet(): Record<string, bigint> {
    return sumByCurrency(
      REGIONS.flatMap((r) =>
        [...this.state(r).accounts.values()].filter((a) => a.homeRegion === r && isClearingAccount(a.id)),
      ),
    );
  }

  /**
   * What both replicas hold and every line written, without timestamps (two runs of the same
   * messages at different times compare equal): equal before and after means nothing changed.
   */
  snapshot(): unknown {
    const byId = (rows: [string, ...unknown[]][]) => rows.sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0));
    const replica = (s: LedgerState) => ({
      accounts: byId(
        [...s.accounts.values()].map((a) => [a.id, a.balance, a.heldAmount, a.version, a.status]),
      ),
      transfers: byId(
        [...s.transfers.values()].map((t) => [t.id, t.status, t.reason, t.revision, t.capturedAmount]),
      ),
      legs: byId([...(s.legs?.values() ?? [])].map((l) => [l.transferId, l.outcome, l.reason, l.amount])),
    });
    return {
      replicas: REGIONS.map((r) => replica(this.state(r))),
      pages: this.pages.map((p) => [p.accountId, p.version, p.lines]),
    };
  }

  private now(): string {
    this.clockMs += 1_000;
    return new Date(this.clockMs).toISOString();
  }

  private homeSeenFrom(region: Region, command: LedgerCommand): Region | undefined {
    if (command.type === 'open_account') return asRegion(command.account.homeRegion);
    const home = this.state(region).accounts.get(partitionKeyOf(command))?.homeRegion;
    return home === undefined ? undefined : asRegion(home);
  }

  /** The ACCEPTED records a command carries, created once by id where it goes, and replicated. */
  private record({ region, command }: Envelope): void {
    const carried =
      command.type === 'transfer'
        ? [{ body: command.transfer, fingerprint: command.fingerprint, at: command.acceptedAt }]
        : command.type === 'atomic_group'
          ? command.legs.map((l) => ({
              body: l.transfer,
              fingerprint: l.fingerprint,
              at: command.acceptedAt,
            }))
          : [];
    for (const { body, fingerprint, at } of carried) {
      const accepted = acceptedTransfer(transferRequestOf(body), fingerprint, at);
      for (const r of [region, ...REGIONS.filter((other) => other !== region)]) {
        const state = this.state(r);
        if (state.transfers.has(body.id)) continue;
        this.states.set(r, { ...state, transfers: new Map(state.transfers).set(body.id, accepted) });
      }
    }
  }

  /** After every delivery: each region's own accounts sum to zero and none is past its limit. */
  private expectRegionsBalanced(): void {
    for (const region of REGIONS) {
      for (const [currency, sum] of Object.entries(this.sums(region)))
        expect(sum, `${currency} in ${region}`).toBe(0n);
      for (const a of this.state(region).accounts.values()) {
        if (a.homeRegion === region && !isClearingAccount(a.id))
          expect(availableBalance(a) >= -a.overdraftLimit, `${a.id} within its limit`).toBe(true);
      }
    }
  }
}

function asRegion(name: string): Region {
  if (name !== EAST && name !== WEST) throw new Error(`unknown region ${name}`);
  return name;
}

/** A replica applies another region's writes when they are newer than what it holds. */
function replicate(state: LedgerState, writes: WriteSet): LedgerState {
  const accounts = new Map(state.accounts);
  const transfers = new Map(state.transfers);
  const legs = new Map(state.legs);
  for (const a of [...writes.openedAccounts, ...writes.accounts.map((w) => w.after)]) {
    const held = accounts.get(a.id);
    if (held === undefined || held.version < a.version) accounts.set(a.id, a);
  }
  for (const { after } of writes.transfers) {
    const held = transfers.get(after.id);
    if (held === undefined || held.revision < after.revision) transfers.set(after.id, after);
  }
  for (const { after } of writes.legs ?? [])
    if (!legs.has(after.transferId)) legs.set(after.transferId, after);
  return { accounts, transfers, legs };
}

/** The store's transaction conditions: every item written is still the version the plan read. */
function expectUnchangedSinceRead(state: LedgerState, writes: WriteSet): void {
  for (const { before } of writes.accounts) expect(state.accounts.get(before.id)).toBe(before);
  for (const { before } of writes.transfers) expect(state.transfers.get(before.id)).toBe(before);
  for (const a of writes.openedAccounts) expect(state.accounts.has(a.id), `${a.id} opened twice`).toBe(false);
  for (const { before, after } of writes.legs ?? []) expect(state.legs?.get(after.transferId)).toBe(before);
}

/** One write set, per currency: what it takes from some accounts it gives to others. */
function expectConserved(writes: WriteSet): void {
  const delta: Record<string, bigint> = {};
  for (const { before, after } of writes.accounts)
    delta[after.currency] = (delta[after.currency] ?? 0n) + after.balance - before.balance;
  for (const a of writes.openedAccounts) delta[a.currency] = (delta[a.currency] ?? 0n) + a.balance;
  for (const [currency, d] of Object.entries(delta)) expect(d, `${currency} moved by one write`).toBe(0n);
}

function sumByCurrency(accounts: readonly Account[]): Record<string, bigint> {
  const sums: Record<string, bigint> = {};
  for (const a of accounts) sums[a.currency] = (sums[a.currency] ?? 0n) + a.balance;
  return sums;
}

function expectStatus(delivery: Delivery, status: CommandOutcome['status']): void {
  expect(delivery.outcome.status, `${commandIdOf(delivery.command)} in ${delivery.region}`).toBe(status);
}

const transfer = (
  id: string,
  from: string,
  to: string,
  amount: bigint,
  extra: Partial<TransferRequest> = {},
): TransferRequest => ({ id, debitAccountId: from, creditAccountId: to, amount, currency: 'USD', ...extra });

const captureOf = (hold: TransferRequest, requestId: string, amount?: bigint): HoldActionCommand => ({
  v: 1,
  type: 'capture',
  transferId: hold.id,
  debitAccountId: hold.debitAccountId,
  requestId,
  requestedAt: new Date(T0_MS).toISOString(),
  ...(amount === undefined ? {} : { amount: amount.toString() }),
});

/**
 * treasury, alice and carol in the east; bob and dave in the west; alice starts with 500. `bob`
 * overrides bob's seed; null leaves him out (nobody of that name in the west).
 */
function funded(bob: Partial<AccountSeed> | null = {}): TwoRegions {
  const bobs: AccountSeed[] = bob === null ? [] : [{ id: 'bob', home: WEST, ...bob }];
  const h = new TwoRegions([
    { id: 'treasury', home: EAST, limit: 1_000_000n },
    { id: 'alice', home: EAST },
    { id: 'carol', home: EAST },
    ...bobs,
    { id: 'dave', home: WEST },
  ]);
  h.submit(transfer('fund', 'treasury', 'alice', 500n));
  expectStatus(h.deliverNext(), 'posted');
  h.deliveries.length = 0;
  return h;
}

const outcomes = (deliveries: readonly Delivery[]) =>
  deliveries.map((d) => [d.region, d.command.type, d.outcome.status]);
/** An account's statement lines of one transfer as [type, amount, counterparty, balanceAfter, heldAfter]. */
const rows = (h: TwoRegions, accountId: string, transferId: string) =>
  h
    .lines(accountId)
    .filter((l) => l.transferId === transferId)
    .map((l) => [l.type, l.amount, l.counterpartyAccountId, l.balanceAfter, l.heldAfter]);
const eastClearing = clearingAccountId(EAST, 'USD', 'alice');
const westClearing = clearingAccountId(WEST, 'USD', 'bob');

// ---- examples ---------------------------------------------------------------------------

describe('a cross-region transfer', () => {
  it('goes ACCEPTED -> DEBITED -> POSTED, each region balanced at every step and the clearings netting to 0', () => {
    const h = funded();
    h.submit(transfer('t1', 'alice', 'bob', 120n));
    expect(h.transfer('t1').status).toBe('ACCEPTED');

    expectStatus(h.deliverNext(), 'debited');
    expect(h.transfer('t1')).toMatchObject({
      status: 'DEBITED',
      creditRegion: WEST,
      clearingAccountId: eastClearing,
    });
    expect([h.account('alice').balance, h.account(eastClearing).balance, h.account('bob').balance]).toEqual([
      380n,
      120n,
      0n,
    ]);
    expect(h.outbox.map((e) => [e.region, e.command.type])).toEqual([[WEST, 'credit_leg']]);

    expectStatus(h.deliverNext(), 'credited');
    expect([h.account('bob').balance, h.account(westClearing).balance]).toEqual([120n, -120n]);
    expect(h.leg(WEST, 't1')).toMatchObject({ outcome: 'applied', amount: 120n, region: WEST });
    expect(h.transfer('t1').status).toBe('DEBITED');
    expect(h.outbox.map((e) => [e.region, e.command.type])).toEqual([[EAST, 'credit_result']]);

    const result = h.deliverNext();
    expectStatus(result, 'posted');
    // No money moves; only alice's amount in flight settles (to 0), with no statement line.
    expect(
      result.writes.accounts.map(({ before, after }) => [after.id, before.balance === after.balance]),
    ).toEqual([['alice', true]]);
    expect(result.writes.pages).toEqual([]);
    expect(h.account('alice').inFlightAmount).toBe(0n);
    expect(h.transfer('t1').status).toBe('POSTED');
    expect(h.outbox).toEqual([]);

    expect([h.sums(EAST), h.sums(WEST), h.clearingNet()]).toEqual([{ USD: 0n }, { USD: 0n }, { USD: 0n }]);
    expect(rows(h, 'alice', 't1')).toEqual([['DEBIT', 120n, 'bob', 380n, 0n]]);
    expect(rows(h, eastClearing, 't1')).toEqual([['CREDIT', 120n, 'alice', 120n, 0n]]);
    expect(rows(h, westClearing, 't1')).toEqual([['DEBIT', 120n, 'bob', -120n, 0n]]);
    expect(rows(h, 'bob', 't1')).toEqual([['CREDIT', 120n, 'alice', 120n, 0n]]);
  });

  it('posts transfers whose messages cross each other: legs and results delivered in reverse order', () => {
    const h = funded();
    h.submit(transfer('t1', 'alice', 'bob', 100n));
    h.submit(transfer('t2', 'alice', 'bob', 250n));
    expectStatus(h.deliverNext(), 'debited');
    expectStatus(h.deliverNext(), 'debited');
    h.outbox.reverse();
    const legs = [h.deliverNext(), h.deliverNext()];
    expect(
      legs.map((d) => d.command.type === 'credit_leg' && [d.command.transferId, d.outcome.status]),
    ).toEqual([
      ['t2', 'credited'],
      ['t1', 'credited'],
    ]);
    h.outbox.reverse();
    const results = h.drain();
    expect(results.map((d) => d.command.type === 'credit_result' && d.command.transferId)).toEqual([
      't1',
      't2',
    ]);
    expect([h.transfer('t1').status, h.transfer('t2').status]).toEqual(['POSTED', 'POSTED']);
    expect([h.account('alice').balance, h.account('bob').balance]).toEqual([150n, 350n]);
    expect(h.clearingNet()).toEqual({ USD: 0n });
  });
});

describe('a credit refused at its home region', () => {
  const cases: readonly {
    name: string;
    bob: Partial<AccountSeed> | null;
    reason: string;
    eastSees?: Partial<Account>;
  }[] = [
    { name: 'frozen', bob: { status: 'FROZEN' }, reason: 'account_frozen' },
    { name: 'closed', bob: { status: 'CLOSED' }, reason: 'account_closed' },
    // The east replica knows a bob homed in the west that the west does not have.
    { name: 'missing', bob: null, reason: 'account_not_found', eastSees: { id: 'bob', homeRegion: WEST } },
    // The east replica disagrees with bob's home about his currency.
    {
      name: 'other-currency',
      bob: { currency: 'EUR' },
      reason: 'currency_mismatch',
      eastSees: { currency: 'USD' },
    },
  ];

  it.each(cases)('ends RETURNED ($name): the debit given back, the clearing net 0, nothing credited', (c) => {
    const h = funded(c.bob);
    if (c.eastSees !== undefined) {
      const base = c.bob === null ? h.account('dave') : h.account('bob');
      h.plant(EAST, { ...base, ...c.eastSees });
    }
    h.submit(transfer('t1', 'alice', 'bob', 200n));
    expect(outcomes(h.drain())).toEqual([
      [EAST, 'transfer', 'debited'],
      [WEST, 'credit_leg', 'credit_failed'],
      [EAST, 'credit_result', 'returned'],
    ]);
    expect(h.transfer('t1')).toMatchObject({ status: 'RETURNED', reason: c.reason });
    expect(h.leg(WEST, 't1')).toMatchObject({ outcome: 'failed', reason: c.reason });
    expect(h.account('alice').balance).toBe(500n);
    expect(rows(h, 'alice', 't1')).toEqual([
      ['DEBIT', 200n, 'bob', 300n, 0n],
      ['RETURN', 200n, 'bob', 500n, 0n],
    ]);
    expect(rows(h, eastClearing, 't1')).toEqual([
      ['CREDIT', 200n, 'alice', 200n, 0n],
      ['DEBIT', 200n, 'alice', 0n, 0n],
    ]);
    expect(h.state(WEST).accounts.has(westClearing)).toBe(false);
    expect(h.clearingNet()).toEqual({ USD: 0n });
    expect(h.lines('bob')).toEqual([]);
    if (c.bob !== null) expect(h.account('bob').balance).toBe(0n);
  });
});

describe('known gap (not fixed here, see the commit message)', () => {
  // The close is checked against balance and holds only; an amount in flight to another region is
  // neither, so the account closes at 0 and the failed credit then returns money into a CLOSED
  // account, which nothing can ever debit again. `fails`: turns red once the planner is fixed.
  it('never leaves money in a CLOSED account when a credit in flight is returned', () => {
    const h = funded({ status: 'FROZEN' });
    h.submit(transfer('t1', 'alice', 'bob', 500n));
    h.deliverNext();
    // alice is at 0 with no hold while her 500 are in flight: the close goes through...
    const requestedAt = new Date(T0_MS).toISOString();
    h.deliver({
      region: EAST,
      command: {
        v: 1,
        type: 'update_account',
        accountId: 'alice',
        requestId: 'close',
        requestedAt,
        status: 'CLOSED',
      },
    });
    // ...and the refused credit comes back to her.
    h.drain();
    const alice = h.account('alice');
    expect([alice.status, alice.balance]).not.toEqual(['CLOSED', 500n]);
  });
});

describe('insufficient funds', () => {
  it('is rejected at the debit home: no credit leg sent, no balance written in either region', () => {
    const h = funded();
    h.submit(transfer('t1', 'alice', 'bob', 501n));
    const [rejected, ...rest] = h.drain();
    expect(rest).toEqual([]);
    expect(rejected?.outcome).toEqual({ status: 'rejected', reason: 'insufficient_funds' });
    expect(rejected?.sent).toEqual([]);
    expect([rejected?.writes.accounts, rejected?.writes.openedAccounts, rejected?.writes.pages]).toEqual([
      [],
      [],
      [],
    ]);
    expect(h.transfer('t1')).toMatchObject({ status: 'REJECTED', reason: 'insufficient_funds' });
    expect(h.state(WEST).legs?.size).toBe(0);
    expect(h.account('alice').balance).toBe(500n);
  });

  it('lets the debit take the balance down to exactly -overdraftLimit (boundary)', () => {
    const h = funded();
    h.submit(transfer('t1', 'alice', 'bob', 500n));
    h.drain();
    expect(h.transfer('t1').status).toBe('POSTED');
    expect(h.account('alice').balance).toBe(0n);
  });
});

describe('redeliveries', () => {
  it.each([
    { name: 'credited', bob: {}, status: 'POSTED', balances: [380n, 120n] },
    { name: 'refused', bob: { status: 'FROZEN' as const }, status: 'RETURNED', balances: [500n, 0n] },
  ])('change nothing after the first delivery of each message ($name)', (c) => {
    const once = funded(c.bob);
    once.submit(transfer('t1', 'alice', 'bob', 120n));
    once.drain();

    const twice = funded(c.bob);
    twice.submit(transfer('t1', 'alice', 'bob', 120n));
    const deliveries = twice.drain(everyMessageTwice());
    const firsts = deliveries.filter((d) => d.outcome.status !== 'duplicate');
    expect(firsts.map((d) => d.command.type)).toEqual(['transfer', 'credit_leg', 'credit_result']);
    // transfer x2, its re-sent leg and the first leg x2 each, a result per leg delivery x2.
    expect(deliveries).toHaveLength(14);
    for (const d of deliveries.filter((x) => x.outcome.status === 'duplicate'))
      expect([d.writes.accounts, d.writes.transfers, d.writes.legs, d.writes.pages]).toEqual([
        [],
        [],
        [],
        [],
      ]);
    expect(twice.snapshot()).toEqual(once.snapshot());
    expect(twice.transfer('t1').status).toBe(c.status);
    expect([twice.account('alice').balance, twice.account('bob').balance]).toEqual(c.balances);
  });

  it('re-sends the credit leg when the transfer command comes again while DEBITED, and the leg applies once', () => {
    const h = funded();
    const command = h.submit(transfer('t1', 'alice', 'bob', 120n));
    expectStatus(h.deliverNext(), 'debited');
    const lost = h.outbox.shift();
    expect(lost?.command.type).toBe('credit_leg');

    const before = h.snapshot();
    expectStatus(h.deliver(command), 'duplicate');
    expect(h.snapshot()).toEqual(before);
    expect(h.outbox).toEqual([{ region: WEST, command: { ...lost?.command, sentAt: expect.any(String) } }]);

    if (lost !== undefined) h.outbox.push(lost);
    expect(outcomes(h.drain())).toEqual([
      [WEST, 'credit_leg', 'credited'],
      [WEST, 'credit_leg', 'duplicate'],
      [EAST, 'credit_result', 'posted'],
      [EAST, 'credit_result', 'duplicate'],
    ]);
    expect(h.account('bob').balance).toBe(120n);
    expect(h.lines('bob')).toHaveLength(1);
    const late = h.deliver(command);
    expectStatus(late, 'duplicate');
    expect(late.sent).toEqual([]);
  });
});

describe('forwarding', () => {
  it('sends a transfer that reached the wrong region on once, and its home applies it', () => {
    const h = funded();
    h.submit(transfer('t1', 'alice', 'bob', 120n), { at: WEST, routed: false });
    const deliveries = h.drain();
    expect(outcomes(deliveries)).toEqual([
      [WEST, 'transfer', 'forwarded'],
      [EAST, 'transfer', 'debited'],
      [WEST, 'credit_leg', 'credited'],
      [EAST, 'credit_result', 'posted'],
    ]);
    const [forward, applied] = deliveries;
    expect([forward?.writes.accounts, forward?.writes.transfers]).toEqual([[], []]);
    expect(applied?.command.hops).toBe(1);
    expect(h.transfer('t1').status).toBe('POSTED');
    expect([h.account('alice').balance, h.account('bob').balance]).toEqual([380n, 120n]);
  });

  it('sends on a command one hop short of HOPS_MAX once more, and refuses one already at HOPS_MAX', () => {
    const h = funded();
    const request = transfer('t1', 'alice', 'carol', 10n);
    const command = transferCommand(request, transferFingerprint(request), new Date(T0_MS).toISOString());
    h.send({ ...command, hops: HOPS_MAX }, { at: WEST, routed: false });
    const [refused, ...none] = h.drain();
    expect(none).toEqual([]);
    expect(refused?.outcome.status).toBe('unappliable');
    expect([refused?.writes.transfers, refused?.sent]).toEqual([[], []]);
    expect(h.transfer('t1').status).toBe('ACCEPTED');

    h.send({ ...command, hops: HOPS_MAX - 1 }, { at: WEST, routed: false });
    expect(outcomes(h.drain())).toEqual([
      [WEST, 'transfer', 'forwarded'],
      [EAST, 'transfer', 'posted'],
    ]);
    expect(h.account('carol').balance).toBe(10n);
  });

  it('stops after HOPS_MAX hops when each replica says the account lives in the other region', () => {
    const h = funded();
    // A re-homing half replicated: the east copy says west, the west copy still says east.
    h.plant(EAST, { ...h.account('carol'), homeRegion: WEST });
    h.submit(transfer('t1', 'carol', 'alice', 1n), { at: WEST, routed: false });
    const deliveries = h.drain();
    expect(deliveries.map((d) => [d.region, d.command.hops ?? 0, d.outcome.status])).toEqual([
      [WEST, 0, 'forwarded'],
      [EAST, 1, 'forwarded'],
      [WEST, 2, 'forwarded'],
      [EAST, HOPS_MAX, 'unappliable'],
    ]);
    expect(deliveries.flatMap((d) => d.writes.accounts)).toEqual([]);
    expect(h.transfer('t1').status).toBe('ACCEPTED');
  });

  it('rejects an atomic group touching both regions (cross_region_group) and forwards one homed elsewhere', () => {
    const h = funded({ limit: 100n });
    const group = (groupId: string, legs: TransferRequest[]) => {
      const entries = legs.map((l) => ({
        request: { ...l, groupId },
        fingerprint: transferFingerprint({ ...l, groupId }),
      }));
      return atomicGroupCommand(groupId, entries, new Date(T0_MS).toISOString());
    };
    h.send(group('g1', [transfer('g1a', 'treasury', 'carol', 10n), transfer('g1b', 'carol', 'bob', 5n)]));
    h.send(group('g2', [transfer('g2a', 'bob', 'dave', 30n), transfer('g2b', 'dave', 'bob', 10n)]), {
      at: EAST,
      routed: false,
    });
    const deliveries = h.drain();
    expect(outcomes(deliveries)).toEqual([
      [EAST, 'atomic_group', 'rejected'],
      [EAST, 'atomic_group', 'forwarded'],
      [WEST, 'atomic_group', 'posted'],
    ]);
    expect(deliveries[0]?.outcome.reason).toBe('cross_region_group');
    expect(['g1a', 'g1b'].map((id) => [h.transfer(id).status, h.transfer(id).reason])).toEqual([
      ['REJECTED', 'cross_region_group'],
      ['REJECTED', 'cross_region_group'],
    ]);
    expect(['g2a', 'g2b'].map((id) => h.transfer(id).status)).toEqual(['POSTED', 'POSTED']);
    expect([h.account('carol').balance, h.account('bob').balance, h.account('dave').balance]).toEqual([
      0n,
      -20n,
      20n,
    ]);
  });

  it('rejects a reversal whose accounts live in two regions (transfer_not_reversible)', () => {
    const h = funded();
    h.submit(transfer('t1', 'alice', 'bob', 100n));
    h.drain();
    h.submit(transfer('r1', 'bob', 'alice', 100n, { reversalOf: 't1' }));
    expect(outcomes(h.drain())).toEqual([[WEST, 'transfer', 'rejected']]);
    expect(h.transfer('r1')).toMatchObject({ status: 'REJECTED', reason: 'transfer_not_reversible' });
    expect(h.transfer('t1').reversedBy).toBeUndefined();
    expect([h.account('alice').balance, h.account('bob').balance]).toEqual([400n, 100n]);
  });
});

describe('holds whose credit account is in the other region', () => {
  const hold = transfer('h1', 'alice', 'bob', 200n, { holdTimeoutSeconds: 3_600 });

  it('hold here; the capture debits here with a CAPTURE line and the credit follows there', () => {
    const h = funded();
    h.submit(hold);
    expectStatus(h.deliverNext(), 'held');
    expect(h.outbox).toEqual([]);
    expect(h.account('alice')).toMatchObject({ balance: 500n, heldAmount: 200n });

    const capture = h.send(captureOf(hold, 'cap-1', 150n));
    expectStatus(h.deliverNext(), 'captured');
    expect(h.transfer('h1')).toMatchObject({ status: 'DEBITED', capturedAmount: 150n });
    expect(h.account('alice')).toMatchObject({ balance: 350n, heldAmount: 0n });
    expect(h.outbox.map((e) => [e.region, e.command.type === 'credit_leg' && e.command.amount])).toEqual([
      [WEST, '150'],
    ]);
    // The capture redelivered while DEBITED sends the credit leg again; it credits once.
    expectStatus(h.deliver(capture), 'duplicate');

    expect(outcomes(h.drain())).toEqual([
      [WEST, 'credit_leg', 'credited'],
      [WEST, 'credit_leg', 'duplicate'],
      [EAST, 'credit_result', 'posted'],
      [EAST, 'credit_result', 'duplicate'],
    ]);
    expect(h.transfer('h1').status).toBe('POSTED');
    expect([h.account('alice').balance, h.account('bob').balance]).toEqual([350n, 150n]);
    expect(rows(h, 'alice', 'h1')).toEqual([
      ['HOLD', 200n, 'bob', 500n, 200n],
      ['CAPTURE', 150n, 'bob', 350n, 0n],
    ]);
    expect(rows(h, 'bob', 'h1')).toEqual([['CREDIT', 150n, 'alice', 150n, 0n]]);
    expect(h.clearingNet()).toEqual({ USD: 0n });
  });

  it('returns the captured amount when the credit home refuses it (the east replica had not seen the close)', () => {
    const h = funded({ status: 'CLOSED' });
    h.plant(EAST, { ...h.account('bob'), status: 'OPEN' });
    h.submit(hold);
    h.send(captureOf(hold, 'cap-1', 150n));
    expect(outcomes(h.drain()).map(([, type, status]) => `${type}:${status}`)).toEqual([
      'transfer:held',
      'capture:captured',
      'credit_leg:credit_failed',
      'credit_result:returned',
    ]);
    expect(h.transfer('h1')).toMatchObject({
      status: 'RETURNED',
      reason: 'account_closed',
      capturedAmount: 150n,
    });
    expect(h.account('alice')).toMatchObject({ balance: 500n, heldAmount: 0n });
    expect(rows(h, 'alice', 'h1')).toEqual([
      ['HOLD', 200n, 'bob', 500n, 200n],
      ['CAPTURE', 150n, 'bob', 350n, 0n],
      ['RETURN', 150n, 'bob', 500n, 0n],
    ]);
    expect(h.clearingNet()).toEqual({ USD: 0n });
  });
});

// ---- property ---------------------------------------------------------------------------

const PROPERTY_ACCOUNTS: readonly AccountSeed[] = [
  { id: 'e-fund', home: EAST, limit: 2_000n },
  { id: 'e-alice', home: EAST },
  { id: 'e-bob', home: EAST, limit: 100n },
  { id: 'e-frozen', home: EAST, status: 'FROZEN' },
  { id: 'e-eur', home: EAST, currency: 'EUR', limit: 500n },
  { id: 'w-fund', home: WEST, limit: 1_000n },
  { id: 'w-carol', home: WEST },
  { id: 'w-dave', home: WEST, limit: 50n },
  { id: 'w-closed', home: WEST, status: 'CLOSED' },
  { id: 'w-eur', home: WEST, currency: 'EUR' },
];
/** Redeliveries one run may add on top of the messages themselves. */
const DUPLICATES_MAX = 30;

interface Submission {
  readonly request: TransferRequest;
  readonly at: Region;
  readonly routed: boolean;
}

function submissionsArbitrary(): fc.Arbitrary<Submission[]> {
  const ids = PROPERTY_ACCOUNTS.map((a) => a.id);
  const currencyOf = (id: string) => PROPERTY_ACCOUNTS.find((a) => a.id === id)?.currency;
  const weighted = <T>(weight: number, ...values: T[]) => ({ arbitrary: fc.constantFrom(...values), weight });
  // Mostly accounts that can pay, to accounts of their currency, so that money moves across regions
  // and comes back; the rest reaches every rejection (frozen, closed, currency, unknown account).
  const one = fc.record({
    from: fc.oneof(
      weighted(3, 'e-fund', 'w-fund'),
      weighted(5, 'e-alice', 'e-bob', 'w-carol', 'w-dave', 'e-eur'),
      weighted(1, ...ids, 'nobody'),
    ),
    sameCurrency: fc.oneof(weighted(4, true), weighted(1, false)),
    toSame: fc.nat(),
    toAny: fc.constantFrom(...ids, 'nobody'),
    // Round amounts as often as any: with round limits they meet the overdraft boundary exactly.
    amount: fc.oneof(fc.bigInt({ min: 1n, max: 400n }), fc.constantFrom(50n, 100n, 150n, 200n, 500n)),
    otherCurrency: fc.oneof(weighted(12, false), weighted(1, true)),
    at: fc.constantFrom(EAST, WEST),
    routed: fc.oneof(weighted(3, true), weighted(1, false)),
  });
  return fc.array(one, { minLength: 2, maxLength: 30, size: 'medium' }).map((xs) =>
    xs.map((x, i) => {
      const natural = currencyOf(x.from) ?? 'USD';
      const peers = ids.filter((id) => id !== x.from && currencyOf(id) === natural);
      const to = x.sameCurrency ? (peers[x.toSame % peers.length] ?? x.toAny) : x.toAny;
      const currency = x.otherCurrency ? (natural === 'USD' ? 'EUR' : 'USD') : natural;
      return { request: transfer(`t${i}`, x.from, to, x.amount, { currency }), at: x.at, routed: x.routed };
    }),
  );
}

function randomSchedule(g: fc.GeneratorValue): Schedule {
  let duplicates = 0;
  return {
    next: (waiting) => g(fc.nat, { max: waiting - 1 }),
    again: () => {
      if (duplicates >= DUPLICATES_MAX || g(fc.nat, { max: 3 }) !== 0) return false;
      duplicates++;
      return true;
    },
  };
}

interface ModelAccount {
  readonly home: Region;
  readonly currency: string;
  readonly limit: bigint;
  readonly status: 'OPEN' | 'FROZEN' | 'CLOSED';
  balance: bigint;
}
interface ModelTransfer {
  status: 'POSTED' | 'REJECTED' | 'DEBITED' | 'RETURNED';
  reason?: string;
}

/**
 * The reference: plain balances, written from the rules, not from the planner. A transfer is
 * decided at its debit step (the first time its command reaches its debit account's home): it
 * moves at once when both accounts share a home, else the debit leaves now, the credit lands at the
 * first credit leg to reach the credit home (or is refused there), and a refused credit comes back
 * to the debit account at the first result to reach the debit home. The timing comes from the
 * delivery log, the outcomes only from this model.
 */
class ReferenceLedger {
  readonly transfers = new Map<string, ModelTransfer>();
  private readonly accounts = new Map<string, ModelAccount>();
  /** Per cross-region transfer, at its credit step: undefined when credited, else why not. */
  private readonly credits = new Map<string, string | undefined>();

  constructor(seeds: readonly AccountSeed[]) {
    for (const s of seeds) {
      const { home, currency = 'USD', limit = 0n, status = 'OPEN' } = s;
      this.accounts.set(s.id, { home, currency, limit, status, balance: 0n });
    }
  }

  balance(id: string): bigint | undefined {
    return this.accounts.get(id)?.balance;
  }

  replay(deliveries: readonly Delivery[], requests: ReadonlyMap<string, TransferRequest>): void {
    for (const { region, command } of deliveries) {
      if (command.type === 'open_account' || command.type === 'update_account') continue;
      const home = this.accounts.get(partitionKeyOf(command))?.home;
      if (home !== undefined && home !== region) continue;
      const id =
        command.type === 'transfer' ? command.transfer.id : 'transferId' in command ? command.transferId : '';
      const t = requests.get(id);
      if (t === undefined) continue;
      if (command.type === 'transfer' && !this.transfers.has(id)) this.debitStep(t);
      if (command.type === 'credit_leg' && !this.credits.has(id)) this.creditStep(t);
      if (command.type === 'credit_result' && this.transfers.get(id)?.status === 'DEBITED')
        this.resultStep(t);
    }
  }

  private debitStep(t: TransferRequest): void {
    const d = this.accounts.get(t.debitAccountId);
    const c = this.accounts.get(t.creditAccountId);
    const reason =
      t.debitAccountId === t.creditAccountId
        ? 'same_account'
        : d === undefined || c === undefined
          ? 'account_not_found'
          : (statusReason(d) ??
            (d.home === c.home ? statusReason(c) : undefined) ??
            (d.currency !== t.currency || c.currency !== t.currency ? 'currency_mismatch' : undefined) ??
            (d.balance - t.amount < -d.limit ? 'insufficient_funds' : undefined));
    if (reason !== undefined || d === undefined || c === undefined) {
      this.transfers.set(t.id, { status: 'REJECTED', reason: reason ?? 'account_not_found' });
      return;
    }
    d.balance -= t.amount;
    if (d.home !== c.home) {
      this.transfers.set(t.id, { status: 'DEBITED' });
      return;
    }
    c.balance += t.amount;
    this.transfers.set(t.id, { status: 'POSTED' });
  }

  private creditStep(t: TransferRequest): void {
    const c = this.accounts.get(t.creditAccountId);
    const refused =
      c === undefined
        ? 'account_not_found'
        : (statusReason(c) ?? (c.currency !== t.currency ? 'currency_mismatch' : undefined));
    if (refused === undefined && c !== undefined) c.balance += t.amount;
    this.credits.set(t.id, refused);
  }

  private resultStep(t: TransferRequest): void {
    const refused = this.credits.get(t.id);
    if (refused === undefined) {
      this.transfers.set(t.id, { status: 'POSTED' });
      return;
    }
    const d = this.accounts.get(t.debitAccountId);
    if (d !== undefined) d.balance += t.amount;
    this.transfers.set(t.id, { status: 'RETURNED', reason: refused });
  }
}

function statusReason(a: ModelAccount): string | undefined {
  if (a.status === 'FROZEN') return 'account_frozen';
  if (a.status === 'CLOSED') return 'account_closed';
  return undefined;
}

/** True when cross-region transfers settled (POSTED or RETURNED) in another order than they were debited. */
function outOfOrder(deliveries: readonly Delivery[]): boolean {
  const debits = deliveries.flatMap((d) =>
    d.command.type === 'transfer' && d.outcome.status === 'debited' ? [d.command.transfer.id] : [],
  );
  const settled = deliveries.flatMap((d) =>
    d.command.type === 'credit_result' && d.outcome.status !== 'duplicate' ? [d.command.transferId] : [],
  );
  return settled.join() !== debits.filter((id) => settled.includes(id)).join();
}

describe('cross-region transfers against a reference model (property)', () => {
  it('ends every transfer POSTED, REJECTED or RETURNED, conserving each currency, whatever the delivery order and duplicates', () => {
    const seen: Record<string, number> = {};
    const count = (key: string, n = 1) => {
      seen[key] = (seen[key] ?? 0) + n;
    };
    fc.assert(
      fc.property(submissionsArbitrary(), fc.gen(), (submissions, g) => {
        const h = new TwoRegions(PROPERTY_ACCOUNTS);
        for (const s of submissions) h.submit(s.request, { at: s.at, routed: s.routed });
        const deliveries = h.drain(randomSchedule(g));

        const model = new ReferenceLedger(PROPERTY_ACCOUNTS);
        model.replay(deliveries, new Map(submissions.map((s) => [s.request.id, s.request])));
        for (const { request } of submissions) {
          const t = h.transfer(request.id);
          expect(['POSTED', 'REJECTED', 'RETURNED'], `${request.id} final`).toContain(t.status);
          const expected = model.transfers.get(request.id);
          expect({ status: t.status, reason: t.reason }, request.id).toEqual({
            status: expected?.status,
            reason: expected?.reason,
          });
          count(t.status);
        }
        for (const { id, limit } of PROPERTY_ACCOUNTS) {
          const a = h.account(id);
          expect(a.balance, id).toBe(model.balance(id));
          expect(a.balance >= -(limit ?? 0n), `${id} within its limit`).toBe(true);
        }
        const all = REGIONS.flatMap((r) =>
          [...h.state(r).accounts.values()].filter((a) => a.homeRegion === r),
        );
        for (const sum of Object.values(sumByCurrency(all))) expect(sum).toBe(0n);
        for (const net of Object.values(h.clearingNet())) expect(net).toBe(0n);
        const crossed = submissions.filter(
          ({ request }) => h.transfer(request.id).creditRegion !== undefined,
        ).length;
        expect(
          REGIONS.reduce(
            (n, r) => n + [...(h.state(r).legs?.values() ?? [])].filter((l) => l.region === r).length,
            0,
          ),
        ).toBe(crossed);
        count('cross-region', crossed);
        count('forwarded', deliveries.filter((d) => d.outcome.status === 'forwarded').length);
        count(
          'transfer again while DEBITED',
          deliveries.filter(
            (d) => d.command.type === 'transfer' && d.outcome.status === 'duplicate' && d.sent.length > 0,
          ).length,
        );
        count('duplicate', deliveries.filter((d) => d.outcome.status === 'duplicate').length);
        count('results out of debit order', outOfOrder(deliveries) ? 1 : 0);
      }),
      { numRuns: 200, seed: 20261124 },
    );
    // The generator reaches every path it is meant to test.
    for (const key of [
      'results out of debit order',
      'POSTED',
      'REJECTED',
      'RETURNED',
      'cross-region',
      'forwarded',
      'transfer again while DEBITED',
      'duplicate',
    ])
      expect(seen[key] ?? 0, `${key} in ${JSON.stringify(seen)}`).toBeGreaterThanOrEqual(20);
  });
});
