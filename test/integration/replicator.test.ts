import { setTimeout as sleep } from 'node:timers/promises';
import {
  type AttributeValue,
  CreateTableCommand,
  DeleteItemCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  GetItemCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ledgerTableDefinition } from '../../shared/adapters/ledger-table.js';
import { ensureTable } from '../../tools/local/provision.js';
import { RegionNetwork } from '../../tools/local/region-network.js';
import {
  type DirectionStats,
  ReplicatorError,
  TableReplicator,
  WRITTEN_ATTRIBUTE,
} from '../../tools/local/replicator.js';
import {
  makeClients,
  type TestClients,
  type TestEndpoints,
  testEndpoints,
  uniqueName,
} from '../helpers/emulators.js';

/**
 * The local global-table replicator against DynamoDB Local: two tables, one per simulated region,
 * replicated both ways, last writer wins on `written`. One replicator serves the whole file; each
 * test uses keys of its own and leaves the replicator resumed, the network healed, lag 0.
 */
const EAST = 'us-east-2';
const WEST = 'eu-west-1';
const DEADLINE_MS = 10_000;
const POLL_MS = 25;

let endpoints: TestEndpoints;
let clients: TestClients;
let network: RegionNetwork;
let replicator: TableReplicator;
const tables: Record<string, string> = {};
const extraTables: string[] = [];
const logs: string[] = [];

beforeAll(async () => {
  endpoints = testEndpoints();
  clients = makeClients(endpoints);
  tables[EAST] = uniqueName('repl-east');
  tables[WEST] = uniqueName('repl-west');
  await Promise.all([ensureTable(clients.dynamodb, table(EAST)), ensureTable(clients.dynamodb, table(WEST))]);
  network = new RegionNetwork();
  replicator = new TableReplicator({
    endpoint: endpoints.dynamodbEndpoint,
    tables: [
      { region: EAST, tableName: table(EAST) },
      { region: WEST, tableName: table(WEST) },
    ],
    lagMs: 0,
    pollIntervalMs: 50,
    network,
    log: (line) => logs.push(line),
  });
  await replicator.start();
});

afterEach(() => {
  replicator.resume();
  replicator.setLagMs(0);
  network.heal();
  network.up(EAST);
  network.up(WEST);
});

afterAll(async () => {
  await replicator?.stop();
  const names = [...Object.values(tables), ...extraTables];
  await Promise.allSettled(
    names.map((name) => clients.dynamodb.send(new DeleteTableCommand({ TableName: name }))),
  );
  clients?.destroy();
  if (logs.length > 0) console.log(logs.join('\n'));
});

function table(region: string): string {
  const name = tables[region];
  if (name === undefined) throw new Error(`no table for ${region}`);
  return name;
}

const key = (id: string) => ({ pk: { S: `REPL#${id}` }, sk: { S: 'ITEM' } });

/** A clock as the ledger store writes it; `offsetMs` orders two writes made close together. */
function clock(region: string, offsetMs = 0): string {
  return `${new Date(Date.now() + offsetMs).toISOString()}#${region}`;
}

async function put(region: string, id: string, value: string, written = clock(region)): Promise<string> {
  await clients.dynamodb.send(
    new PutItemCommand({
      TableName: table(region),
      Item: { ...key(id), value: { S: value }, [WRITTEN_ATTRIBUTE]: { S: written } },
    }),
  );
  return written;
}

async function remove(region: string, id: string): Promise<void> {
  await clients.dynamodb.send(new DeleteItemCommand({ TableName: table(region), Key: key(id) }));
}

async function get(region: string, id: string): Promise<Record<string, AttributeValue> | undefined> {
  const out = await clients.dynamodb.send(
    new GetItemCommand({ TableName: table(region), Key: key(id), ConsistentRead: true }),
  );
  return out.Item;
}

async function valueIn(region: string, id: string): Promise<string | undefined> {
  return (await get(region, id))?.value?.S;
}

async function waitFor(what: string, condition: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + DEADLINE_MS;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`not within ${DEADLINE_MS} ms: ${what}`);
    await sleep(POLL_MS);
  }
}

function direction(from: string, to: string): DirectionStats {
  const found = replicator.stats().directions.find((d) => d.from === from && d.to === to);
  if (found === undefined) throw new Error(`no direction ${from}->${to}`);
  return found;
}

/** Both directions caught up, echoes included (the second pass reads what the first one wrote). */
async function settled(): Promise<void> {
  for (let pass = 0; pass < 2; pass++) {
    expect(await replicator.caughtUp(EAST, WEST, DEADLINE_MS)).toBe(true);
    expect(await replicator.caughtUp(WEST, EAST, DEADLINE_MS)).toBe(true);
  }
}

describe('provisioning for replication', () => {
  it('ensureTable enables NEW_AND_OLD_IMAGES on a table created without a stream; the replicator needs it', async () => {
    const name = uniqueName('repl-nostream');
    extraTables.push(name);
    const { StreamSpecification: _ignored, ...withoutStream } = ledgerTableDefinition(name);
    await clients.dynamodb.send(new CreateTableCommand(withoutStream));
    const lonely = new TableReplicator({
      endpoint: endpoints.dynamodbEndpoint,
      tables: [
        { region: EAST, tableName: name },
        { region: WEST, tableName: table(WEST) },
      ],
    });
    await expect(lonely.start()).rejects.toThrow(ReplicatorError);
    await lonely.stop();

    const ensured = await ensureTable(clients.dynamodb, name);
    expect(ensured.created).toBe(false);
    const described = await clients.dynamodb.send(new DescribeTableCommand({ TableName: name }));
    expect(described.Table?.StreamSpecification).toEqual({
      StreamEnabled: true,
      StreamViewType: 'NEW_AND_OLD_IMAGES',
    });
    expect(described.Table?.LatestStreamArn).toBeDefined();
    // Created tables stream both images too.
    const created = await clients.dynamodb.send(new DescribeTableCommand({ TableName: table(EAST) }));
    expect(created.Table?.StreamSpecification?.StreamViewType).toBe('NEW_AND_OLD_IMAGES');
  });
});

describe('TableReplicator', () => {
  it('replicates an insert in either table to the other, item for item', async () => {
    const eastClock = await put(EAST, 'ins-east', 'from-east');
    const westClock = await put(WEST, 'ins-west', 'from-west');
    await waitFor('ins-east in the west', async () => (await valueIn(WEST, 'ins-east')) === 'from-east');
    await waitFor('ins-west in the east', async () => (await valueIn(EAST, 'ins-west')) === 'from-west');
    expect(await get(WEST, 'ins-east')).toEqual(await get(EAST, 'ins-east'));
    expect((await get(EAST, 'ins-west'))?.[WRITTEN_ATTRIBUTE]?.S).toBe(westClock);
    expect((await get(WEST, 'ins-east'))?.[WRITTEN_ATTRIBUTE]?.S).toBe(eastClock);
  });

  it('applies a change no earlier than lagMs after reading it', async () => {
    replicator.setLagMs(1_500);
    const before = Date.now();
    await put(EAST, 'lagged', 'v1');
    await sleep(200);
    expect(await get(WEST, 'lagged')).toBeUndefined();
    await waitFor('lagged in the west', async () => (await valueIn(WEST, 'lagged')) === 'v1');
    // Read after the write, applied lagMs after the read: never sooner than lagMs after the write.
    expect(Date.now() - before).toBeGreaterThanOrEqual(1_500);
  });

  it('caughtUp resolves true once everything written before the call is in the other table', async () => {
    const ids = ['cu-1', 'cu-2', 'cu-3', 'cu-4', 'cu-5'];
    for (const id of ids) await put(EAST, id, id);
    expect(await replicator.caughtUp(EAST, WEST, DEADLINE_MS)).toBe(true);
    // No polling: caught up means already there.
    for (const id of ids) expect(await valueIn(WEST, id)).toBe(id);
  });

  it('pause applies nothing in either direction; resume applies what was kept, in stream order', async () => {
    await settled();
    const before = replicator.stats().directions;
    await replicator.pause();
    await put(EAST, 'paused-order', 'short-lived');
    await remove(EAST, 'paused-order');
    await put(EAST, 'paused-east', 'e');
    await put(WEST, 'paused-west', 'w');
    await waitFor('the changes read while paused', () => {
      return direction(EAST, WEST).pending >= 3 && direction(WEST, EAST).pending >= 1;
    });
    await sleep(300);
    expect(replicator.stats().paused).toBe(true);
    expect(await get(WEST, 'paused-east')).toBeUndefined();
    expect(await get(EAST, 'paused-west')).toBeUndefined();
    expect(direction(EAST, WEST).applied).toBe(before[0].applied);
    expect(direction(EAST, WEST).oldestPendingMs).toBeGreaterThanOrEqual(300);
    expect(await replicator.caughtUp(EAST, WEST, 300)).toBe(false);

    replicator.resume();
    await settled();
    expect(await valueIn(WEST, 'paused-east')).toBe('e');
    expect(await valueIn(EAST, 'paused-west')).toBe('w');
    // Put then delete, in that order: applied the other way round, the item would be in the west.
    expect(await get(WEST, 'paused-order')).toBeUndefined();
    expect(direction(EAST, WEST).applied - before[0].applied).toBe(3);
    expect(direction(WEST, EAST).applied - before[1].applied).toBe(1);
    expect(direction(EAST, WEST).pending).toBe(0);
  });

  it('a conflict written in both tables while paused converges to the later write in both', async () => {
    await settled();
    const before = replicator.stats().directions;
    await replicator.pause();
    const earlier = clock(EAST);
    const later = clock(WEST, 1_000);
    // conflict-a: the east write is later; conflict-b: the west write is later.
    await put(EAST, 'conflict-a', 'east', `${later.split('#')[0]}#${EAST}`);
    await put(WEST, 'conflict-a', 'west', `${earlier.split('#')[0]}#${WEST}`);
    await put(EAST, 'conflict-b', 'east', earlier);
    await put(WEST, 'conflict-b', 'west', later);
    replicator.resume();
    await settled();
    for (const region of [EAST, WEST]) {
      expect(await valueIn(region, 'conflict-a')).toBe('east');
      expect(await valueIn(region, 'conflict-b')).toBe('west');
    }
    expect(await get(EAST, 'conflict-a')).toEqual(await get(WEST, 'conflict-a'));
    expect(await get(EAST, 'conflict-b')).toEqual(await get(WEST, 'conflict-b'));
    expect(direction(EAST, WEST).skippedOlder - before[0].skippedOlder).toBe(1);
    expect(direction(WEST, EAST).skippedOlder - before[1].skippedOlder).toBe(1);
  });

  it('replicates a delete, but not over a later write of the same item', async () => {
    await put(EAST, 'removed', 'doomed');
    await put(EAST, 'outlived', 'v1');
    await settled();
    expect(await valueIn(WEST, 'removed')).toBe('doomed');

    await remove(EAST, 'removed');
    expect(await replicator.caughtUp(EAST, WEST, DEADLINE_MS)).toBe(true);
    expect(await get(WEST, 'removed')).toBeUndefined();

    // The west deletes v1 while the east writes v2: v2 is later than the version deleted.
    await replicator.pause();
    await remove(WEST, 'outlived');
    await put(EAST, 'outlived', 'v2');
    replicator.resume();
    await settled();
    expect(await valueIn(EAST, 'outlived')).toBe('v2');
    expect(await valueIn(WEST, 'outlived')).toBe('v2');
  });

  it('skips its own writes coming back (echoes), counts them, and goes quiet', async () => {
    await settled();
    const before = replicator.stats().directions;
    await put(EAST, 'echo-1', 'x');
    await put(EAST, 'echo-2', 'x');
    await remove(EAST, 'echo-2');
    await put(WEST, 'echo-3', 'y');
    await settled();
    const after = replicator.stats().directions;
    // East to west: two puts and a delete applied, then the echo of echo-3 skipped.
    expect(after[0].applied - before[0].applied).toBe(3);
    expect(after[0].skippedEcho - before[0].skippedEcho).toBe(1);
    // West to east: echo-3 applied; the west's copies of echo-1, echo-2 and the delete come back.
    expect(after[1].applied - before[1].applied).toBe(1);
    expect(after[1].skippedEcho - before[1].skippedEcho).toBe(3);
    expect(await get(EAST, 'echo-2')).toBeUndefined();
    // Quiet: nothing more is read or applied in either direction.
    await sleep(600);
    expect(replicator.stats().directions).toEqual(after);
  });

  it('a network partition blocks both directions; healing converges', async () => {
    await settled();
    network.partition();
    await put(EAST, 'split-east', 'e');
    await put(WEST, 'split-west', 'w');
    // Each region still reads its own stream: the changes wait in the replicator.
    await waitFor('the changes read during the partition', () => {
      return direction(EAST, WEST).pending >= 1 && direction(WEST, EAST).pending >= 1;
    });
    await sleep(300);
    expect(await get(WEST, 'split-east')).toBeUndefined();
    expect(await get(EAST, 'split-west')).toBeUndefined();
    expect(await replicator.caughtUp(WEST, EAST, 300)).toBe(false);

    network.heal();
    await settled();
    expect(await valueIn(WEST, 'split-east')).toBe('e');
    expect(await valueIn(EAST, 'split-west')).toBe('w');
  });

  it('a region that is down neither sends nor receives; back up, it catches up', async () => {
    await settled();
    network.down(WEST);
    await sleep(200); // a read already sent when it went down completes
    const westReadBefore = direction(WEST, EAST).read;
    await put(EAST, 'down-east', 'e');
    await put(WEST, 'down-west', 'w'); // the test writes to the table directly
    await waitFor('the east change read', () => direction(EAST, WEST).pending >= 1);
    await sleep(500);
    expect(await get(WEST, 'down-east')).toBeUndefined();
    expect(await get(EAST, 'down-west')).toBeUndefined();
    expect(direction(WEST, EAST).read).toBe(westReadBefore); // its stream is not read while down

    network.up(WEST);
    await settled();
    expect(await valueIn(WEST, 'down-east')).toBe('e');
    expect(await valueIn(EAST, 'down-west')).toBe('w');
  });

  it('does not replicate items without a clock', async () => {
    await settled();
    const before = replicator.stats().directions;
    await clients.dynamodb.send(
      new PutItemCommand({ TableName: table(EAST), Item: { ...key('unclocked'), value: { S: 'u' } } }),
    );
    expect(await replicator.caughtUp(EAST, WEST, DEADLINE_MS)).toBe(true);
    expect(await get(WEST, 'unclocked')).toBeUndefined();
    expect(direction(EAST, WEST).skippedUnclocked - before[0].skippedUnclocked).toBe(1);
  });

  // Last: it stops the file's replicator, so that the handles counted are the second one's alone.
  it('stop finishes cleanly: no timer or socket of its own left, caughtUp answers false', async () => {
    await replicator.stop();
    await get(EAST, 'ins-east'); // the test client's own socket is open in the baseline too
    const handles = () =>
      process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout' || kind === 'TCPSocketWrap')
        .length;
    const baseline = handles();
    const second = new TableReplicator({
      endpoint: endpoints.dynamodbEndpoint,
      tables: [
        { region: EAST, tableName: table(EAST) },
        { region: WEST, tableName: table(WEST) },
      ],
      lagMs: 0,
      log: (line) => logs.push(line),
    });
    await second.start();
    await put(EAST, 'second', 's');
    expect(await second.caughtUp(EAST, WEST, DEADLINE_MS)).toBe(true);
    expect(handles()).toBeGreaterThan(baseline);
    await second.stop();
    await second.stop(); // idempotent
    expect(await second.caughtUp(EAST, WEST, 1_000)).toBe(false);
    await waitFor('its timers and sockets gone', () => handles() <= baseline);
    expect(await valueIn(WEST, 'second')).toBe('s');
  });
});
