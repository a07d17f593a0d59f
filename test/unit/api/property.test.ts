import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createTestApi, seedAccounts, transferBody } from './harness.js';

const validId = fc.stringMatching(/^[A-Za-z0-9._:-]{1,64}$/);
const anyId = fc.oneof(validId, fc.string({ maxLength: 70 }));
const validAmount = fc.oneof(
  fc.bigInt({ min: 1n, max: 10n ** 19n - 1n }).map(String),
  fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
);
const anyAmount = fc.oneof(
  validAmount,
  fc.bigInt({ min: -10n, max: 10n ** 20n }).map(String),
  fc.integer(),
  fc.double(),
  fc.string({ maxLength: 22 }),
  fc.constant(null),
);
const validTransfer = fc.record(
  {
    id: validId,
    debitAccountId: validId,
    creditAccountId: validId,
    amount: validAmount,
    currency: fc.constantFrom('EUR', 'USD', 'JPY'),
    reference: fc.string({ maxLength: 128 }),
    metadata: fc.dictionary(fc.stringMatching(/^[a-z]{1,8}$/), fc.string({ maxLength: 256 }), {
      maxKeys: 16,
    }),
  },
  { requiredKeys: ['id', 'debitAccountId', 'creditAccountId', 'amount', 'currency'] },
);
/** A valid transfer with one field replaced by something arbitrary, or one field added. */
const mutatedTransfer = fc
  .tuple(
    validTransfer,
    fc.constantFrom(
      'id',
      'debitAccountId',
      'creditAccountId',
      'amount',
      'currency',
      'reference',
      'metadata',
      'extra',
    ),
    fc.oneof(anyId, anyAmount, fc.jsonValue({ maxDepth: 2 })),
  )
  .map(([t, key, value]) => ({ ...t, [key]: value }));
const body = fc.oneof(
  validTransfer.map((t) => JSON.stringify(t)),
  mutatedTransfer.map((t) => JSON.stringify(t)),
  fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
  fc.string({ maxLength: 200 }),
);

describe('POST /v1/transfers with arbitrary bodies', () => {
  it('never answers >= 500 and records nothing unless it answers 202', async () => {
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(body, async (text) => {
        const api = createTestApi();
        const res = await api.postRaw('/v1/transfers', text);
        expect(res.status).toBeLessThan(500);
        const json = (await res.json()) as { error?: { code: string } };
        if (res.status === 202) {
          accepted++;
          expect(api.ledger.transfers.size).toBe(1);
          expect(api.ledger.commandsOf('transfer')).toHaveLength(1);
          const [transfer] = api.ledger.transfers.values();
          expect(transfer?.amount).toBeGreaterThan(0n);
        } else {
          expect(json.error?.code).toMatch(/^[a-z_]+$/);
          expect(api.ledger.transfers.size).toBe(0);
          expect(api.ledger.enqueued).toHaveLength(0);
        }
        expect(api.unexpected).toEqual([]);
      }),
      { numRuns: 400 },
    );
    // The generator reaches the happy path too, or the property would prove little.
    expect(accepted).toBeGreaterThan(20);
  });
});

const actionBody = fc.oneof(
  fc.constant(''),
  fc.record({ amount: anyAmount }, { requiredKeys: [] }).map((b) => JSON.stringify(b)),
  fc
    .record(
      { overdraftLimit: anyAmount, status: fc.constantFrom('OPEN', 'FROZEN', 'CLOSED', 'open', '') },
      { requiredKeys: [] },
    )
    .map((b) => JSON.stringify(b)),
  fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v)),
  fc.string({ maxLength: 60 }),
);

describe('capture, void and PATCH with arbitrary bodies', () => {
  it('never answer >= 500', async () => {
    const api = createTestApi();
    seedAccounts(api.ledger);
    await api.post('/v1/transfers', transferBody({ hold: true, amount: '90000' }));
    api.ledger.applyPending();
    const statuses = new Set<number>();
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(
          'POST /v1/transfers/tx-1/capture',
          'POST /v1/transfers/tx-1/void',
          'PATCH /v1/accounts/acct-bob',
        ),
        actionBody,
        async (route, text) => {
          const [method, path] = route.split(' ') as [string, string];
          const res = await api.app.request(path, {
            method,
            body: text,
            headers: { 'content-type': 'application/json' },
          });
          statuses.add(res.status);
          expect(res.status).toBeLessThan(500);
          expect(api.unexpected).toEqual([]);
        },
      ),
      { numRuns: 300 },
    );
    // Both the happy paths and the refusals are reached.
    expect([...statuses]).toEqual(expect.arrayContaining([200, 202, 400, 422]));
  });
});
