import { describe, expect, it } from 'vitest';
import { preferredWaitSeconds } from '../../../functions/ingest-api/prefer.js';
import { createTestApi, seedAccounts, type TestApi, transferBody } from './harness.js';

/** Seeded accounts; `prompt`: the ledger applies every command as it is enqueued. */
function api(prompt: boolean): TestApi {
  const created = createTestApi();
  seedAccounts(created.ledger);
  created.ledger.autoApply = prompt;
  return created;
}

async function statusOf(res: Response): Promise<unknown> {
  return ((await res.json()) as { status: unknown }).status;
}

describe('preferredWaitSeconds', () => {
  it.each([
    ['wait=2', 2],
    ['wait=0', 0],
    ['WAIT = 3', 3],
    ['wait="4"', 4],
    ['respond-async, wait=5', 5],
    ['wait=6; foo=bar', 6],
    ['wait=10', 10],
    ['wait=11', 10],
    ['wait=99999999999999999999999', 10],
    ['wait=1, wait=7', 1],
  ])('reads %j as %d', (header, seconds) => {
    expect(preferredWaitSeconds(header)).toBe(seconds);
  });

  it.each([
    undefined,
    '',
    'wait',
    'wait=',
    'wait=-1',
    'wait=1.5',
    'wait=abc',
    'waiting=5',
    'return=minimal',
    'wait=5x',
  ])('ignores %j', (header) => {
    expect(preferredWaitSeconds(header)).toBeUndefined();
  });
});

describe('Prefer: wait=N', () => {
  it('answers 200 with the final state when the ledger applies it within the wait', async () => {
    const t = api(true);
    const res = await t.post('/v1/transfers', transferBody(), { Prefer: 'wait=2' });
    expect(res.status).toBe(200);
    expect(res.headers.get('Preference-Applied')).toBe('wait=2');
    expect(res.headers.get('Location')).toBe('/v1/transfers/tx-1');
    expect(await res.json()).toMatchObject({ status: 'POSTED', postedAt: expect.any(String) });
  });

  it('answers 202 with the current state when the wait ends first', async () => {
    const t = api(false);
    const started = Date.now();
    const res = await t.post('/v1/transfers', transferBody(), { Prefer: 'wait=2' });
    expect(res.status).toBe(202);
    expect(res.headers.get('Preference-Applied')).toBe('wait=2');
    expect(await statusOf(res)).toBe('ACCEPTED');
    expect(Date.now() - started).toBeLessThan(1_000); // the fake clock waited, not the test
  });

  it('answers a final rejection too (REJECTED is a final state)', async () => {
    const t = api(true);
    const res = await t.post('/v1/transfers', transferBody({ amount: '100001' }), { Prefer: 'wait=1' });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'REJECTED', reason: 'insufficient_funds' });
  });

  it('takes a wait over 10 seconds as 10, and says so', async () => {
    const t = api(false);
    const res = await t.post('/v1/transfers', transferBody(), { Prefer: 'wait=60' });
    expect(res.status).toBe(202);
    expect(res.headers.get('Preference-Applied')).toBe('wait=10');
  });

  it.each(['wait=abc', 'wait=-1', 'return=minimal'])(
    'ignores %j: 202 at once, no Preference-Applied',
    async (prefer) => {
      const t = api(true);
      const res = await t.post('/v1/transfers', transferBody(), { Prefer: prefer });
      expect(res.status).toBe(202);
      expect(res.headers.get('Preference-Applied')).toBeNull();
      expect(await statusOf(res)).toBe('ACCEPTED');
    },
  );

  it('does not wait for a repeat that is already final', async () => {
    const t = api(false);
    await t.post('/v1/transfers', transferBody());
    t.ledger.applyPending();
    const res = await t.post('/v1/transfers', transferBody(), { Prefer: 'wait=5' });
    expect(res.status).toBe(200);
    expect(res.headers.get('Preference-Applied')).toBeNull();
  });

  it('answers a hold as soon as it is HELD', async () => {
    const t = api(true);
    const res = await t.post('/v1/transfers', transferBody({ hold: true }), { Prefer: 'wait=2' });
    expect(res.status).toBe(200);
    expect(await statusOf(res)).toBe('HELD');
  });

  it('on capture and void: 200 once the hold left HELD, 202 while it is still HELD', async () => {
    const t = api(true);
    await t.post('/v1/transfers', transferBody({ id: 'h-1', hold: true }));
    await t.post('/v1/transfers', transferBody({ id: 'h-2', hold: true }));
    const captured = await t.post('/v1/transfers/h-1/capture', { amount: '5' }, { Prefer: 'wait=2' });
    expect(captured.status).toBe(200);
    expect(captured.headers.get('Preference-Applied')).toBe('wait=2');
    expect(await captured.json()).toMatchObject({ status: 'POSTED', capturedAmount: '5' });
    const voided = await t.postEmpty('/v1/transfers/h-2/void', { Prefer: 'wait=2' });
    expect(voided.status).toBe(200);
    expect(await statusOf(voided)).toBe('VOIDED');

    t.ledger.autoApply = false;
    await t.post('/v1/transfers', transferBody({ id: 'h-3', hold: true }));
    t.ledger.applyPending();
    const slow = await t.postEmpty('/v1/transfers/h-3/capture', { Prefer: 'wait=1' });
    expect(slow.status).toBe(202);
    expect(slow.headers.get('Preference-Applied')).toBe('wait=1');
    expect(await statusOf(slow)).toBe('HELD');
  });

  it('on reverse: 200 with the POSTED reversal', async () => {
    const t = api(true);
    await t.post('/v1/transfers', transferBody());
    const res = await t.post('/v1/transfers/tx-1/reverse', { id: 'rev-1' }, { Prefer: 'wait=3' });
    expect(res.status).toBe(200);
    expect(res.headers.get('Preference-Applied')).toBe('wait=3');
    expect(await res.json()).toMatchObject({ id: 'rev-1', status: 'POSTED', reversalOf: 'tx-1' });
  });
});
