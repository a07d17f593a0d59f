import { randomBytes } from 'node:crypto';
import { DeleteTableCommand } from '@aws-sdk/client-dynamodb';
import { DeleteStreamCommand } from '@aws-sdk/client-kinesis';
import { inject } from 'vitest';
import { type AwsClients, createClients } from '../../shared/adapters/clients.js';
import { loadConfig, type RuntimeConfig } from '../../shared/config.js';
import { ensureStream, ensureTable } from '../../tools/local/provision.js';

export const TEST_REGION = 'us-east-1';
/** Kinesis stream names stop at 128 characters. */
const NAME_LENGTH_MAX = 128;
const PREFIX_LENGTH_MAX = 60;

export interface TestEndpoints {
  readonly dynamodbEndpoint: string;
  readonly kinesisEndpoint: string;
  readonly region: string;
}

/** The emulators the global setup started (or LocalStack's endpoint). Throws when there are none. */
export function testEndpoints(): TestEndpoints {
  const provided = inject('emulators');
  if (provided.kind === 'unavailable') throw new Error(`no emulators for this run: ${provided.reason}`);
  const region = provided.kind === 'localstack' ? (process.env.AWS_REGION ?? TEST_REGION) : TEST_REGION;
  return { dynamodbEndpoint: provided.dynamodbEndpoint, kinesisEndpoint: provided.kinesisEndpoint, region };
}

export interface TestClients extends AwsClients {
  /** Closes the clients' sockets (kinesis-mock's shutdown waits for open connections). */
  destroy(): void;
}

/** SDK clients on the test emulators, configured exactly as the functions configure theirs. */
export function makeClients(endpoints: TestEndpoints = testEndpoints()): TestClients {
  const clients = createClients(configFor(endpoints, 'unused-table', 'unused-stream'));
  return {
    ...clients,
    destroy: () => {
      clients.dynamodb.destroy();
      clients.kinesis.destroy();
    },
  };
}

function configFor(endpoints: TestEndpoints, tableName: string, streamName: string): RuntimeConfig {
  return loadConfig({
    LEDGER_TABLE_NAME: tableName,
    TRANSFER_STREAM_NAME: streamName,
    AWS_REGION: endpoints.region,
    AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamodbEndpoint,
    AWS_ENDPOINT_URL_KINESIS: endpoints.kinesisEndpoint,
  });
}

/** A name no other test file (or run) uses: `<prefix>-<pid>-<time>-<random>`. */
export function uniqueName(prefix: string): string {
  const safe = prefix.replace(/[^A-Za-z0-9._-]/g, '-').slice(0, PREFIX_LENGTH_MAX);
  const suffix = `${process.pid}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  return `${safe}-${suffix}`.slice(0, NAME_LENGTH_MAX);
}

export interface IsolatedLedger {
  readonly config: RuntimeConfig;
  readonly clients: TestClients;
  readonly endpoints: TestEndpoints;
  /** Deletes the table and the stream, then closes the clients. */
  cleanup(): Promise<void>;
}

/**
 * A ledger table and a transfer stream of its own, so test files running in parallel never see
 * each other's items or records.
 *
 * @example
 * let ledger: IsolatedLedger;
 * beforeAll(async () => { ledger = await createIsolatedLedger('consumer'); });
 * afterAll(() => ledger.cleanup());
 */
export async function createIsolatedLedger(
  prefix: string,
  opts: { readonly shards?: number } = {},
): Promise<IsolatedLedger> {
  const endpoints = testEndpoints();
  const name = uniqueName(prefix);
  const config = configFor(endpoints, name, name);
  const clients = makeClients(endpoints);
  await Promise.all([
    ensureTable(clients.dynamodb, config.tableName),
    ensureStream(clients.kinesis, config.streamName, opts.shards ?? 1),
  ]);
  return {
    config,
    clients,
    endpoints,
    cleanup: async () => {
      await Promise.allSettled([
        clients.dynamodb.send(new DeleteTableCommand({ TableName: config.tableName })),
        clients.kinesis.send(
          new DeleteStreamCommand({ StreamName: config.streamName, EnforceConsumerDeletion: true }),
        ),
      ]);
      clients.destroy();
    },
  };
}
