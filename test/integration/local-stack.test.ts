import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { readLockFile } from '../../tools/local/lock-file.js';
import { waitForPidExit } from '../../tools/local/processes.js';
import { call, eventually } from '../helpers/http.js';
import { exitOf, groupPids, spawnUntil } from '../helpers/processes.js';

/**
 * `npm start` as a user runs it (the tsx CLI, in a process group of its own, as a terminal does):
 * killed outright, it comes back on the same data dir with the ledger intact; Ctrl-C exits 0.
 */
const TSX = join('node_modules', '.bin', 'tsx');
const START_TIMEOUT_MS = 90_000;
const dataDir = mkdtempSync(join(tmpdir(), 'edge-ledger-stack-'));
const groups: number[] = [];

afterAll(() => {
  for (const pgid of groups) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  rmSync(dataDir, { recursive: true, force: true });
});

async function npmStart() {
  const started = await spawnUntil(
    TSX,
    [
      'tools/local/start.ts',
      '--data-dir',
      dataDir,
      '--port',
      '0',
      '--dynamodb-port',
      '0',
      '--kinesis-port',
      '0',
    ],
    (line) => /^Ready in .* curl (http:\/\/\S+)\/health/.exec(line)?.[1],
    START_TIMEOUT_MS,
  );
  groups.push(started.child.pid ?? 0);
  return { child: started.child, api: started.value, output: started.output };
}

interface TransferView {
  readonly status: string;
}

async function posted(api: string, id: string): Promise<TransferView> {
  return eventually(async () => {
    const view = (await call(api, 'GET', `/v1/transfers/${id}`)).body as TransferView;
    return view.status === 'ACCEPTED' ? undefined : view;
  }, 30_000);
}

describe('npm start', () => {
  it('comes back after its whole process group was SIGKILLed, ledger intact; Ctrl-C then exits 0', async () => {
    const first = await npmStart();
    for (const [id, overdraftLimit] of [
      ['s-treasury', '1000'],
      ['s-alice', '0'],
    ] as const) {
      expect(
        (await call(first.api, 'POST', '/v1/accounts', { id, currency: 'USD', overdraftLimit })).status,
      ).toBe(201);
    }
    const transfer = {
      debitAccountId: 's-treasury',
      creditAccountId: 's-alice',
      amount: '300',
      currency: 'USD',
    };
    expect((await call(first.api, 'POST', '/v1/transfers', { id: 's-t1', ...transfer })).status).toBe(202);
    expect(await posted(first.api, 's-t1')).toMatchObject({ status: 'POSTED' });
    const emulatorPids = readLockFile(dataDir)?.children.map((c) => c.pid) ?? [];
    expect(emulatorPids).toHaveLength(2);

    const pgid = first.child.pid ?? 0;
    process.kill(-pgid, 'SIGKILL');
    await exitOf(first.child, 10_000);
    for (const pid of emulatorPids) expect(await waitForPidExit(pid, 5_000)).toBe(true);

    const second = await npmStart();
    expect(await posted(second.api, 's-t1')).toMatchObject({ status: 'POSTED' });
    expect((await call(second.api, 'GET', '/v1/accounts/s-alice')).body).toMatchObject({ balance: '300' });
    expect((await call(second.api, 'POST', '/v1/transfers', { id: 's-t2', ...transfer })).status).toBe(202);
    expect(await posted(second.api, 's-t2')).toMatchObject({ status: 'POSTED' });
    expect((await call(second.api, 'GET', '/v1/accounts/s-alice')).body).toMatchObject({ balance: '600' });

    const began = Date.now();
    const secondGroup = second.child.pid ?? 0;
    process.kill(-secondGroup, 'SIGINT');
    expect(await exitOf(second.child, 20_000)).toBe(0);
    console.log(`npm start stopped in ${Date.now() - began} ms after Ctrl-C`);
    await sleep(200);
    expect(groupPids(secondGroup)).toEqual([]);
    expect(readLockFile(dataDir)).toBeUndefined();
  });
});
