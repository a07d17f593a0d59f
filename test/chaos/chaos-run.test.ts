import { describe, expect, it } from 'vitest';
import { renderReport } from '../../tools/chaos/report.js';
import { runChaos } from '../../tools/chaos/run.js';

/**
 * The short variant of `npm run chaos`: the bank workload through the HTTP API while the fault
 * proxies inject throttling, refused PutRecords entries, transaction conflicts, ambiguous writes and
 * repeated GetRecords pages, and the whole stack is SIGKILLed three times (its whole process group
 * right after DynamoDB applied a consumer transaction; its whole group with the kinesis-mock file
 * left half-written; its node processes only, leaving the emulators orphaned, as plain `npm start`)
 * and restarted on the same data dir. Nothing accepted may be lost or applied twice.
 */
describe('chaos (short run)', () => {
  it('loses nothing and doubles nothing across faults and three SIGKILLs of the stack', async () => {
    const seed = Number(process.env.CHAOS_SEED ?? Date.now() % 1_000_000);
    const lines: string[] = [];
    const report = await runChaos({
      durationSeconds: 27,
      clients: 4,
      accounts: 10,
      seed,
      kills: 3,
      killModes: ['transaction', 'torn', 'orphan'],
      profile: 'heavy',
      plainEvery: 3,
      replay: true,
      drainTimeoutSeconds: 60,
      reconcileGraceMs: 5_000,
      keepData: false,
      log: (line) => lines.push(line),
    });
    console.log(`${renderReport(report)}\n\nprogress:\n${lines.join('\n')}`);

    expect(report.violations).toEqual([]);
    expect(report.outcomes.lost).toEqual([]);
    expect(report.outcomes.doubled).toEqual([]);
    expect(report.audit.findings).toEqual([]);
    expect(report.audit.currencies.every((c) => c.sum === 0n)).toBe(true);
    // The run did what it says: transfers went through, every kill happened, the stack came back.
    expect(report.outcomes.posted).toBeGreaterThan(100);
    expect(report.rounds.map((r) => r.kill?.mode)).toEqual(['transaction', 'torn', 'orphan', undefined]);
    expect(report.rounds[2]?.stream?.quarantined).toBe(true);
    expect(report.rounds.map((r) => r.plan.kind)).toEqual(['chaos', 'chaos', 'plain', 'chaos']);
    expect(report.rounds[3]?.leftoverEmulators).toBe(2);
    expect(report.rounds.flatMap((r) => r.kill?.survivors ?? [])).toEqual([]);
    expect(report.finalStop).toMatchObject({ exitCode: 0, lockFileRemoved: true, leftovers: [] });
    expect(report.ok).toBe(true);
  }, 240_000);
});
