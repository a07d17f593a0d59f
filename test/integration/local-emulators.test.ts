import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { GetRecordsCommand, GetShardIteratorCommand, PutRecordCommand } from '@aws-sdk/client-kinesis';
import { afterAll, describe, expect, it } from 'vitest';
import { createClients } from '../../shared/adapters/clients.js';
import { loadConfig } from '../../shared/config.js';
import { type RunningEmulators, startEmulators } from '../../tools/local/emulators.js';
import {
  DataDirInUseError,
  JAVA_MISSING_MESSAGE,
  JavaMissingError,
  PortInUseError,
} from '../../tools/local/errors.js';
import { KINESIS_PERSIST_FILE_NAME } from '../../tools/local/kinesis-persist.js';
import { readLockFile } from '../../tools/local/lock-file.js';
import { isAlive, readCmdline, waitForPidExit } from '../../tools/local/processes.js';
import { ensureStream, ensureTable } from '../../tools/local/provision.js';
import { childPids, spawnUntil } from '../helpers/processes.js';

/**
 * The emulator lifecycle itself: start, stop without orphans, persistence across restarts, and
 * recovery after a run was killed. Each test starts emulators of its own (not the run's shared ones).
 */
const dirs: string[] = [];
const running: RunningEmulators[] = [];
const STREAM = 'persisted-stream';
const TABLE = 'persisted-table';

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'edge-ledger-emulators-'));
  dirs.push(dir);
  return dir;
}

async function start(dataDir?: string, log?: (line: string) => void): Promise<RunningEmulators> {
  const emulators = await startEmulators({ dataDir, log });
  running.push(emulators);
  console.log(`emulators up in ${emulators.startupMs.total} ms`, emulators.startupMs);
  return emulators;
}

function clientsOf(emulators: RunningEmulators) {
  return createClients(
    loadConfig({
      LEDGER_TABLE_NAME: TABLE,
      TRANSFER_STREAM_NAME: STREAM,
      AWS_REGION: 'us-east-1',
      AWS_ENDPOINT_URL_DYNAMODB: emulators.dynamodbEndpoint,
      AWS_ENDPOINT_URL_KINESIS: emulators.kinesisEndpoint,
    }),
  );
}

afterAll(async () => {
  await Promise.all(running.map((emulators) => emulators.stop()));
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('local emulators', () => {
  it('start on free ports, keep an item and a stream record across a restart, stop without orphans', async () => {
    const dataDir = tempDir();
    const first = await start(dataDir);
    expect(readCmdline(first.pids.dynamodb)).toContain('DynamoDBLocal.jar');
    expect(readCmdline(first.pids.kinesis)).toContain('kinesis-local');
    let clients = clientsOf(first);
    await ensureTable(clients.dynamodb, TABLE);
    await ensureStream(clients.kinesis, STREAM, 1);
    await clients.dynamodb.send(
      new PutItemCommand({
        TableName: TABLE,
        Item: { pk: { S: 'ACCT#kept' }, sk: { S: 'ACCT' }, n: { N: '42' } },
      }),
    );
    const put = await clients.kinesis.send(
      new PutRecordCommand({ StreamName: STREAM, PartitionKey: 'k', Data: Buffer.from('kept') }),
    );
    // The clients stay open, as the app's do in the stack: stop() must persist the record anyway.
    await first.stop();
    clients.dynamodb.destroy();
    clients.kinesis.destroy();
    expect(isAlive(first.pids.dynamodb)).toBe(false);
    expect(isAlive(first.pids.kinesis)).toBe(false);

    const second = await start(dataDir);
    clients = clientsOf(second);
    const item = await clients.dynamodb.send(
      new GetItemCommand({ TableName: TABLE, Key: { pk: { S: 'ACCT#kept' }, sk: { S: 'ACCT' } } }),
    );
    expect(item.Item?.n?.N).toBe('42');
    const iterator = await clients.kinesis.send(
      new GetShardIteratorCommand({
        StreamName: STREAM,
        ShardId: put.ShardId,
        ShardIteratorType: 'TRIM_HORIZON',
      }),
    );
    const records = await clients.kinesis.send(
      new GetRecordsCommand({ ShardIterator: iterator.ShardIterator }),
    );
    expect(records.Records?.map((r) => [r.SequenceNumber, Buffer.from(r.Data ?? []).toString()])).toEqual([
      [put.SequenceNumber, 'kept'],
    ]);
    clients.dynamodb.destroy();
    clients.kinesis.destroy();
    await second.stop();
    expect(isAlive(second.pids.dynamodb) || isAlive(second.pids.kinesis)).toBe(false);
    const reapers = childPids(process.pid).filter((pid) => (readCmdline(pid) ?? '').includes('const pids'));
    expect(reapers).toEqual([]);
    expect(existsSync(join(dataDir, 'emulators.lock.json'))).toBe(false);
  });

  it('refuse a data dir a live process owns; after it is SIGKILLed, stop the emulators it left', async () => {
    const dataDir = tempDir();
    const { child, value } = await spawnUntil(
      process.execPath,
      ['--import', 'tsx', 'test/helpers/run-emulators.ts', dataDir],
      (line) => (line.startsWith('{') ? (JSON.parse(line) as { pids: RunningEmulators['pids'] }) : undefined),
      60_000,
    );
    const owner = child.pid ?? 0;
    expect(readLockFile(dataDir)?.ownerPid).toBe(owner);
    await expect(startEmulators({ dataDir })).rejects.toBeInstanceOf(DataDirInUseError);

    // Kill the owner and its reaper, not the emulators: they are orphans now.
    const reaper = childPids(owner).filter((pid) => (readCmdline(pid) ?? '').includes('const pids'));
    for (const pid of [...reaper, owner]) process.kill(pid, 'SIGKILL');
    expect(await waitForPidExit(owner, 5_000)).toBe(true);
    expect(isAlive(value.pids.dynamodb) && isAlive(value.pids.kinesis)).toBe(true);

    const lines: string[] = [];
    const emulators = await start(dataDir, (line) => lines.push(line));
    expect(isAlive(value.pids.dynamodb)).toBe(false);
    expect(isAlive(value.pids.kinesis)).toBe(false);
    expect(lines.filter((line) => line.includes('left running by a previous start'))).toHaveLength(2);
    await emulators.stop();
    expect(existsSync(join(dataDir, 'emulators.lock.json'))).toBe(false);
  });

  it('move a half-written kinesis-mock file aside (it would refuse to start) and come up empty', async () => {
    const dataDir = tempDir();
    mkdirSync(join(dataDir, 'kinesis'), { recursive: true });
    writeFileSync(join(dataDir, 'kinesis', KINESIS_PERSIST_FILE_NAME), '{"streams":{"arn:aws:kin');
    const lines: string[] = [];
    const emulators = await start(dataDir, (line) => lines.push(line));
    expect(lines.some((line) => line.includes('was unreadable'))).toBe(true);
    expect(
      readdirSync(join(dataDir, 'kinesis')).filter((name) => name.includes('.unreadable-')),
    ).toHaveLength(1);
    const { kinesis } = clientsOf(emulators);
    expect((await ensureStream(kinesis, STREAM, 1)).created).toBe(true);
    kinesis.destroy();
    await emulators.stop();
  });

  it('refuse a port that is taken', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, resolve));
    const port = (blocker.address() as { port: number }).port;
    await expect(startEmulators({ dynamodbPort: port })).rejects.toBeInstanceOf(PortInUseError);
    blocker.close();
  });

  it('say how to install Java when it is missing', async () => {
    const path = process.env.PATH;
    process.env.PATH = '/nonexistent';
    try {
      const failure = startEmulators({});
      await expect(failure).rejects.toBeInstanceOf(JavaMissingError);
      await expect(failure).rejects.toThrow(JAVA_MISSING_MESSAGE);
    } finally {
      process.env.PATH = path;
    }
  });
});
