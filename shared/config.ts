// zod/mini (see shared/domain/identifiers.ts): every function parses its environment at cold start.
import * as z from 'zod/mini';

/**
 * Runtime configuration, parsed once at cold start. A missing or malformed variable fails the
 * start (not the hundredth request).
 *
 * Endpoints follow the AWS SDK's own convention: `AWS_ENDPOINT_URL` for every service (LocalStack),
 * or `AWS_ENDPOINT_URL_DYNAMODB` / `AWS_ENDPOINT_URL_KINESIS` per service (the embedded emulators).
 */
const ResourceName = z
  .string()
  .check(
    z.minLength(1),
    z.maxLength(255),
    z.regex(/^[A-Za-z0-9._-]+$/, 'must be a DynamoDB/Kinesis resource name'),
  );
const Region = z
  .string()
  .check(z.regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'must look like an AWS region, e.g. us-east-2'));
const Url = z.url().check(z.maxLength(2048));

/** Every region of the deployment with its table (replica) and stream names, as JSON. */
const RegionsJson = z.pipe(
  z.pipe(
    z.string().check(z.maxLength(4096)),
    z.transform((text: string, ctx) => {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        ctx.issues.push({ code: 'custom', message: 'must be JSON', input: text });
        return z.NEVER;
      }
    }),
  ),
  z
    .record(Region, z.strictObject({ tableName: ResourceName, streamName: ResourceName }))
    .check(z.refine((m) => Object.keys(m).length >= 1 && Object.keys(m).length <= 8, '1 to 8 regions')),
);

export const RuntimeEnv = z.object({
  LEDGER_TABLE_NAME: ResourceName,
  TRANSFER_STREAM_NAME: ResourceName,
  AWS_REGION: Region,
  /** The region this deployment writes as (an account's homeRegion). Defaults to AWS_REGION. */
  LEDGER_REGION: z.optional(Region),
  AWS_ENDPOINT_URL: z.optional(Url),
  AWS_ENDPOINT_URL_DYNAMODB: z.optional(Url),
  AWS_ENDPOINT_URL_KINESIS: z.optional(Url),
  /** `{"<region>": {"tableName", "streamName"}, ...}` for every region, this one included. */
  LEDGER_REGIONS: z.optional(RegionsJson),
});
export type RuntimeEnv = z.infer<typeof RuntimeEnv>;

export interface RuntimeConfig {
  readonly tableName: string;
  readonly streamName: string;
  /** Region the SDK clients talk to. */
  readonly awsRegion: string;
  /** Region this deployment writes as: only accounts homed here are written by this consumer. */
  readonly ledgerRegion: string;
  readonly dynamodbEndpoint: string | undefined;
  readonly kinesisEndpoint: string | undefined;
  /** Every region of the deployment (this one first) with its table and stream names. */
  readonly regions: ReadonlyMap<string, RegionResources>;
}

export interface RegionResources {
  readonly tableName: string;
  readonly streamName: string;
}

export class ConfigError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ConfigError';
  }
}

/** Parses configuration from an environment map (process.env by default). Throws ConfigError. */
export function loadConfig(env: Record<string, string | undefined> = process.env): RuntimeConfig {
  const parsed = RuntimeEnv.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`invalid configuration: ${lines.join('; ')}`);
  }
  const e = parsed.data;
  const ledgerRegion = e.LEDGER_REGION ?? e.AWS_REGION;
  const self = { tableName: e.LEDGER_TABLE_NAME, streamName: e.TRANSFER_STREAM_NAME };
  const listed = e.LEDGER_REGIONS ?? {};
  const mine = listed[ledgerRegion];
  if (mine !== undefined && (mine.tableName !== self.tableName || mine.streamName !== self.streamName)) {
    throw new ConfigError(
      `invalid configuration: LEDGER_REGIONS.${ledgerRegion} differs from this region's names`,
    );
  }
  const regions = new Map<string, RegionResources>([[ledgerRegion, self]]);
  for (const [name, resources] of Object.entries(listed))
    if (name !== ledgerRegion) regions.set(name, resources);
  return {
    tableName: e.LEDGER_TABLE_NAME,
    streamName: e.TRANSFER_STREAM_NAME,
    awsRegion: e.AWS_REGION,
    ledgerRegion,
    dynamodbEndpoint: e.AWS_ENDPOINT_URL_DYNAMODB ?? e.AWS_ENDPOINT_URL,
    kinesisEndpoint: e.AWS_ENDPOINT_URL_KINESIS ?? e.AWS_ENDPOINT_URL,
    regions,
  };
}
