import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { isTransientAwsError } from '../../../shared/adapters/aws-errors.js';
import {
  gatedRequestHandler,
  NETWORK_LISTENERS_MAX,
  type NetworkChange,
  RegionNetwork,
} from '../../../tools/local/region-network.js';

const EAST = 'us-east-2';
const WEST = 'eu-west-1';

describe('RegionNetwork', () => {
  it('reaches every region, itself included, while all are up and nothing is partitioned', () => {
    const network = new RegionNetwork();
    expect(network.isUp(EAST)).toBe(true);
    expect(network.isReachable(EAST, EAST)).toBe(true);
    expect(network.isReachable(EAST, WEST)).toBe(true);
    expect(network.isReachable(WEST, EAST)).toBe(true);
  });

  it('a partition cuts regions apart but each still reaches itself; heal restores', () => {
    const network = new RegionNetwork();
    network.partition();
    expect(network.isPartitioned()).toBe(true);
    expect(network.isReachable(EAST, WEST)).toBe(false);
    expect(network.isReachable(WEST, EAST)).toBe(false);
    expect(network.isReachable(EAST, EAST)).toBe(true);
    network.heal();
    expect(network.isReachable(EAST, WEST)).toBe(true);
  });

  it('a region that is down reaches nothing, not even itself, and nothing reaches it', () => {
    const network = new RegionNetwork();
    network.down(WEST);
    expect(network.isUp(WEST)).toBe(false);
    expect(network.isReachable(WEST, WEST)).toBe(false);
    expect(network.isReachable(EAST, WEST)).toBe(false);
    expect(network.isReachable(WEST, EAST)).toBe(false);
    expect(network.isReachable(EAST, EAST)).toBe(true);
    network.partition();
    network.up(WEST);
    expect(network.isReachable(WEST, WEST)).toBe(true);
    expect(network.isReachable(EAST, WEST)).toBe(false); // still partitioned
  });

  it('tells listeners about each change once, after it, and not after they unsubscribe', () => {
    const network = new RegionNetwork();
    const seen: Array<NetworkChange & { reachable: boolean }> = [];
    const unsubscribe = network.onChange((change) =>
      seen.push({ ...change, reachable: network.isReachable(EAST, WEST) }),
    );
    network.partition();
    network.partition(); // no change
    network.down(WEST);
    network.down(WEST); // no change
    network.heal();
    network.up(WEST);
    network.up(WEST); // no change
    unsubscribe();
    network.partition();
    expect(seen).toEqual([
      { kind: 'partition', reachable: false },
      { kind: 'down', region: WEST, reachable: false },
      { kind: 'heal', reachable: false },
      { kind: 'up', region: WEST, reachable: true },
    ]);
  });

  it('rejects an empty region name and more than NETWORK_LISTENERS_MAX listeners', () => {
    const network = new RegionNetwork();
    expect(() => network.down('')).toThrow(RangeError);
    for (let i = 0; i < NETWORK_LISTENERS_MAX; i++) network.onChange(() => {});
    expect(() => network.onChange(() => {})).toThrow(RangeError);
  });
});

describe('gatedRequestHandler', () => {
  let server: Server;
  let endpoint: string;
  let requests = 0;

  beforeAll(async () => {
    // Answers every call as DynamoDB answers ListTables.
    server = createServer((request, response) => {
      requests += 1;
      request.resume();
      request.on('end', () => {
        response.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
        response.end(JSON.stringify({ TableNames: ['reached'] }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  beforeEach(() => {
    requests = 0;
  });

  function client(network: RegionNetwork, inner?: NodeHttpHandler): DynamoDBClient {
    return new DynamoDBClient({
      region: WEST,
      endpoint,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      maxAttempts: 1,
      requestHandler: gatedRequestHandler(network, EAST, WEST, inner),
    });
  }

  it('delegates to the inner handler while the target region is reachable', async () => {
    const dynamodb = client(new RegionNetwork());
    try {
      const out = await dynamodb.send(new ListTablesCommand({}));
      expect(out.TableNames).toEqual(['reached']);
      expect(requests).toBe(1);
    } finally {
      dynamodb.destroy();
    }
  });

  it('refuses the call as a transient ECONNREFUSED while unreachable, sending nothing; passes after heal', async () => {
    const network = new RegionNetwork();
    const dynamodb = client(network);
    try {
      network.partition();
      const error = await dynamodb.send(new ListTablesCommand({})).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(Error);
      expect((error as Error).name).toBe('Error');
      expect((error as { code?: string }).code).toBe('ECONNREFUSED');
      expect(isTransientAwsError(error)).toBe(true);
      expect(requests).toBe(0);

      network.heal();
      network.down(WEST);
      await expect(dynamodb.send(new ListTablesCommand({}))).rejects.toMatchObject({ code: 'ECONNREFUSED' });
      expect(requests).toBe(0);

      network.up(WEST);
      expect((await dynamodb.send(new ListTablesCommand({}))).TableNames).toEqual(['reached']);
      expect(requests).toBe(1);
    } finally {
      dynamodb.destroy();
    }
  });

  it('passes configuration and destroy through to the inner handler', async () => {
    const inner = new NodeHttpHandler({ requestTimeout: 1_000 });
    const handler = gatedRequestHandler(new RegionNetwork(), EAST, WEST, inner);
    expect(handler.metadata.handlerProtocol).toBe(inner.metadata.handlerProtocol);
    const dynamodb = new DynamoDBClient({
      region: WEST,
      endpoint,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      maxAttempts: 1,
      requestHandler: handler,
    });
    // NodeHttpHandler resolves its configuration on the first request, and again after an update.
    await dynamodb.send(new ListTablesCommand({}));
    expect(handler.httpHandlerConfigs().requestTimeout).toBe(1_000);
    handler.updateHttpClientConfig('requestTimeout', 4_321);
    await dynamodb.send(new ListTablesCommand({}));
    expect(handler.httpHandlerConfigs().requestTimeout).toBe(4_321);
    expect(inner.httpHandlerConfigs().requestTimeout).toBe(4_321);
    expect(requests).toBe(2);
    // The client destroys the handler it was given, which destroys the inner one (its agent's sockets).
    let destroyed = 0;
    const destroyInner = inner.destroy.bind(inner);
    inner.destroy = () => {
      destroyed += 1;
      destroyInner();
    };
    dynamodb.destroy();
    expect(destroyed).toBe(1);
  });
});
