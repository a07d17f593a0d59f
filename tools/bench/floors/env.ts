import type { RuntimeConfig } from '../../../shared/config.js';

/**
 * The floors' configuration, read straight from the environment the real functions read (no schema:
 * a floor has no validation). Same variable names, same endpoint convention as shared/config.ts.
 */
export function floorConfig(env: Record<string, string | undefined> = process.env): RuntimeConfig {
  const region = env.AWS_REGION ?? 'us-east-1';
  const tableName = env.LEDGER_TABLE_NAME ?? 'ledger';
  const streamName = env.TRANSFER_STREAM_NAME ?? 'transfers';
  return {
    tableName,
    streamName,
    regions: new Map([[env.LEDGER_REGION ?? region, { tableName, streamName }]]),
    awsRegion: region,
    ledgerRegion: env.LEDGER_REGION ?? region,
    dynamodbEndpoint: env.AWS_ENDPOINT_URL_DYNAMODB ?? env.AWS_ENDPOINT_URL,
    kinesisEndpoint: env.AWS_ENDPOINT_URL_KINESIS ?? env.AWS_ENDPOINT_URL,
  };
}
