import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { KinesisClient, type KinesisClientConfig } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { RuntimeConfig } from '../config.js';

/** An SDK request handler (the local two-region simulation passes one that models reachability). */
export type SdkRequestHandler = NonNullable<DynamoDBClientConfig['requestHandler']> &
  NonNullable<KinesisClientConfig['requestHandler']>;

export interface ClientOptions {
  /** The region the clients talk to (default: config.awsRegion). */
  readonly region?: string;
  readonly requestHandler?: SdkRequestHandler;
}

/** SDK attempts per call (the SDK's own retry with backoff), on top of our bounded loops. */
const SDK_ATTEMPTS_MAX = 3;
/** Emulators and LocalStack accept any key; real AWS uses the default credential chain. */
const EMULATOR_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' } as const;

export interface AwsClients {
  readonly dynamodb: DynamoDBClient;
  readonly kinesis: KinesisClient;
}

/**
 * Creates the SDK clients once per cold start. With an endpoint configured (emulators, LocalStack)
 * the Kinesis client uses HTTP/1.1: the default HTTP/2 handler fails against a plain-HTTP emulator
 * under load.
 */
export function createClients(
  config: Pick<RuntimeConfig, 'awsRegion' | 'dynamodbEndpoint' | 'kinesisEndpoint'>,
  options: ClientOptions = {},
): AwsClients {
  const region = options.region ?? config.awsRegion;
  const dynamodb = new DynamoDBClient({
    region,
    maxAttempts: SDK_ATTEMPTS_MAX,
    ...(config.dynamodbEndpoint === undefined
      ? {}
      : { endpoint: config.dynamodbEndpoint, credentials: EMULATOR_CREDENTIALS }),
    ...(options.requestHandler === undefined ? {} : { requestHandler: options.requestHandler }),
  });
  const kinesis = new KinesisClient({
    region,
    maxAttempts: SDK_ATTEMPTS_MAX,
    ...(config.kinesisEndpoint === undefined
      ? {}
      : {
          endpoint: config.kinesisEndpoint,
          credentials: EMULATOR_CREDENTIALS,
          requestHandler: new NodeHttpHandler({ connectionTimeout: 2_000, requestTimeout: 10_000 }),
        }),
    ...(options.requestHandler === undefined ? {} : { requestHandler: options.requestHandler }),
  });
  return { dynamodb, kinesis };
}
