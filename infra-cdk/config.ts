import { z } from 'zod';
import { type LedgerNames, ledgerNames, TABLE_NAME_LENGTH_MAX } from './names.js';

/**
 * Deployment settings, read once from CDK context (cdk.json, `-c key=value`) and validated here, so a
 * bad value fails `cdk synth` with one message naming every bad key instead of a half-built template.
 *
 * `-c` values arrive as strings, so numbers and lists accept their string forms too; object-valued
 * keys (`customDomain`, `latencyRouting`) accept an object (cdk.json) or a JSON string (`-c`).
 */

/** Placeholder account so `cdk synth` works offline; the CLI refuses to deploy it with other credentials. */
export const PLACEHOLDER_ACCOUNT = '111111111111';

/** CloudWatch Logs accepts only these retention periods (days). */
const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;
/** PCI DSS 10.7: keep audit trail history for at least one year. */
const LOG_RETENTION_DAYS_MIN = 365;

const Region = z
  .string()
  .max(32)
  .regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'must look like an AWS region, e.g. us-east-2');
const Account = z.string().regex(/^\d{12}$/, 'must be a 12-digit AWS account id');
const HttpsUrl = z
  .url()
  .max(2048)
  .refine((u) => u.startsWith('https://'), 'must be an https:// URL');
const CertificateArn = z
  .string()
  .max(2048)
  .regex(
    /^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[A-Za-z0-9-]+$/,
    'must be an ACM certificate ARN',
  );
const DomainName = z
  .string()
  .max(253)
  .regex(/^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/, 'must be a lower-case DNS name');

/** A whole number, given as a number (cdk.json) or a decimal string (`-c`). */
function intIn(min: number, max: number) {
  return z.coerce.number().int().min(min).max(max);
}

/** An object, given as an object (cdk.json) or a JSON string (`-c key='{"a":1}'`). */
function jsonObject<T extends z.ZodType>(schema: T) {
  return z.preprocess((value) => {
    if (typeof value !== 'string') return value;
    try {
      return JSON.parse(value) as unknown;
    } catch {
      return value;
    }
  }, schema);
}

/** A list of strings, given as an array or a comma-separated string. */
const StringList = z.preprocess(
  (value) =>
    typeof value === 'string'
      ? value
          .split(',')
          .map((s) => s.trim())
          .filter((s) => s.length > 0)
      : value,
  z.array(z.string().min(1).max(256)).min(1).max(10),
);

export const CustomDomainSettings = z
  .object({
    /** The public name clients call, e.g. `api.ledger.example.com` (same name in both regions). */
    domainName: DomainName,
    /** One regional ACM certificate per deployed region, keyed by region. */
    certificateArns: z.record(Region, CertificateArn),
    /** Path (from the repository root) of the PEM bundle of client CAs trusted for mutual TLS. */
    truststorePath: z
      .string()
      .min(1)
      .max(1024)
      .regex(/\.pem$/, 'must name a .pem file'),
  })
  .strict();
export type CustomDomainSettings = z.infer<typeof CustomDomainSettings>;

export const LatencyRoutingSettings = z
  .object({
    /** The Route 53 public hosted zone that holds `customDomain.domainName`. */
    hostedZoneId: z
      .string()
      .max(32)
      .regex(/^Z[A-Z0-9]+$/, 'must be a Route 53 hosted zone id'),
    zoneName: DomainName,
  })
  .strict();
export type LatencyRoutingSettings = z.infer<typeof LatencyRoutingSettings>;

export const LedgerContext = z
  .object({
    account: Account.optional(),
    primaryRegion: Region.default('us-east-2'),
    secondaryRegion: Region.default('ca-central-1'),
    /** Physical name of the global table (same name in every replica region). */
    tableName: z
      .string()
      .min(3)
      .max(
        TABLE_NAME_LENGTH_MAX,
        `must be at most ${TABLE_NAME_LENGTH_MAX} characters (it prefixes the consumer function and reconciler rule names)`,
      )
      // No dots: the name is also the table key's KMS alias.
      .regex(/^[A-Za-z0-9_-]+$/, 'must be letters, digits, _ or - (a DynamoDB table name and KMS alias)')
      .default('edge-ledger'),
    auth: z.enum(['iam', 'jwt']).default('iam'),
    jwtIssuer: HttpsUrl.optional(),
    jwtAudience: StringList.optional(),
    metricsNamespace: z
      .string()
      .min(1)
      .max(255)
      .regex(/^[A-Za-z0-9._/#:-]+$/, 'must be a CloudWatch namespace')
      .refine((s) => !s.startsWith('AWS/'), 'must not start with AWS/ (reserved)')
      .default('EdgeLedger'),
    logLevel: z.enum(['DEBUG', 'INFO', 'WARN', 'ERROR']).default('INFO'),
    logRetentionDays: z.coerce
      .number()
      .refine((n) => (LOG_RETENTION_DAYS as readonly number[]).includes(n), {
        message: `must be one of ${LOG_RETENTION_DAYS.join(', ')}`,
      })
      .refine((n) => n >= LOG_RETENTION_DAYS_MIN, `must be at least ${LOG_RETENTION_DAYS_MIN} (PCI DSS 10.7)`)
      .default(LOG_RETENTION_DAYS_MIN),
    /** Steady-state requests per second for the whole stage, per region. */
    apiThrottleRateLimit: intIn(1, 10_000).default(200),
    /** Requests the stage absorbs in a burst above the rate, per region. */
    apiThrottleBurstLimit: intIn(1, 5_000).default(400),
    /** Share of applied transfers rejected (percent, per 5 minutes, per region) above which the alarm fires. */
    rejectedTransferRatePercent: intIn(1, 100).default(10),
    /** Optional e-mail address subscribed to the alarm topic. */
    alarmEmail: z.email().max(254).optional(),
    customDomain: jsonObject(CustomDomainSettings).optional(),
    latencyRouting: jsonObject(LatencyRoutingSettings).optional(),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.primaryRegion === c.secondaryRegion) {
      ctx.addIssue({ code: 'custom', path: ['secondaryRegion'], message: 'must differ from primaryRegion' });
    }
    if (c.auth === 'jwt' && c.jwtIssuer === undefined) {
      ctx.addIssue({ code: 'custom', path: ['jwtIssuer'], message: 'is required when auth is "jwt"' });
    }
    if (c.auth === 'jwt' && c.jwtAudience === undefined) {
      ctx.addIssue({ code: 'custom', path: ['jwtAudience'], message: 'is required when auth is "jwt"' });
    }
    if (c.apiThrottleBurstLimit < c.apiThrottleRateLimit / 10) {
      ctx.addIssue({
        code: 'custom',
        path: ['apiThrottleBurstLimit'],
        message: 'must be at least a tenth of apiThrottleRateLimit, or bursts are throttled',
      });
    }
    for (const region of [c.primaryRegion, c.secondaryRegion]) {
      if (c.customDomain !== undefined && c.customDomain.certificateArns[region] === undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['customDomain', 'certificateArns', region],
          message: `needs a certificate for ${region}`,
        });
      }
    }
    if (c.latencyRouting !== undefined && c.customDomain === undefined) {
      ctx.addIssue({ code: 'custom', path: ['latencyRouting'], message: 'requires customDomain' });
    }
    if (
      c.latencyRouting !== undefined &&
      c.customDomain !== undefined &&
      !`.${c.customDomain.domainName}`.endsWith(`.${c.latencyRouting.zoneName}`)
    ) {
      ctx.addIssue({
        code: 'custom',
        path: ['latencyRouting', 'zoneName'],
        message: `must be a parent of customDomain.domainName (${c.customDomain.domainName})`,
      });
    }
  });
export type LedgerContext = z.infer<typeof LedgerContext>;

/** Regions LEDGER_REGIONS may list: a bound on the map, not a plan (the context has two). */
export const LEDGER_REGIONS_MAX = 10;

/** One region's entry in LEDGER_REGIONS: the names of its table replica and of its command stream. */
export const LedgerRegionResources = z
  .object({
    tableName: z
      .string()
      .min(3)
      .max(255)
      .regex(/^[A-Za-z0-9._-]+$/, 'must be a DynamoDB table name'),
    streamName: z
      .string()
      .min(1)
      .max(128)
      .regex(/^[A-Za-z0-9._-]+$/, 'must be a Kinesis stream name'),
  })
  .strict();
export type LedgerRegionResources = z.infer<typeof LedgerRegionResources>;

/**
 * The wire shape of the functions' LEDGER_REGIONS variable: every region of the deployment (the function's
 * own included) mapped to its table and stream names, e.g.
 * `{"us-east-2":{"tableName":"edge-ledger","streamName":"edge-ledger-transfers"},"ca-central-1":{…}}`.
 * Checked here at synth; the functions parse it again at cold start.
 */
export const LedgerRegions = z
  .record(Region, LedgerRegionResources)
  .refine((regions) => Object.keys(regions).length >= 2, 'must list at least two regions')
  .refine(
    (regions) => Object.keys(regions).length <= LEDGER_REGIONS_MAX,
    `must list at most ${LEDGER_REGIONS_MAX} regions`,
  );
export type LedgerRegions = z.infer<typeof LedgerRegions>;

/** The validated settings the stacks are built from. */
export interface LedgerConfig extends Omit<LedgerContext, 'account'> {
  readonly account: string;
  /** Physical names shared by every region (infra-cdk/names.ts). */
  readonly names: LedgerNames;
  /** Every region of the deployment, primary first, with its table and stream names (LEDGER_REGIONS). */
  readonly regions: LedgerRegions;
}

export class LedgerConfigError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'LedgerConfigError';
  }
}

/**
 * Validates raw context values. `defaultAccount` (CDK_DEFAULT_ACCOUNT) fills `account` when the context
 * has none, then the placeholder does, so synth never needs credentials. Throws LedgerConfigError.
 *
 * @example
 * const config = parseLedgerConfig({ auth: 'jwt', jwtIssuer: 'https://id.example.com', jwtAudience: 'ledger' });
 */
export function parseLedgerConfig(
  raw: Readonly<Record<string, unknown>>,
  defaultAccount: string | undefined = undefined,
): LedgerConfig {
  const parsed = LedgerContext.safeParse(raw);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  - ${i.path.join('.') || '(context)'}: ${i.message}`);
    throw new LedgerConfigError(`invalid CDK context (cdk.json or -c):\n${lines.join('\n')}`);
  }
  const fallback =
    defaultAccount !== undefined && /^\d{12}$/.test(defaultAccount) ? defaultAccount : undefined;
  const names = ledgerNames(parsed.data.tableName);
  return {
    ...parsed.data,
    account: parsed.data.account ?? fallback ?? PLACEHOLDER_ACCOUNT,
    names,
    regions: ledgerRegions([parsed.data.primaryRegion, parsed.data.secondaryRegion], names),
  };
}

/** The LEDGER_REGIONS map of these regions, validated by its wire schema. Throws LedgerConfigError. */
function ledgerRegions(regions: readonly string[], names: LedgerNames): LedgerRegions {
  const entry: LedgerRegionResources = { tableName: names.tableName, streamName: names.streamName };
  const parsed = LedgerRegions.safeParse(Object.fromEntries(regions.map((region) => [region, entry])));
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  - LEDGER_REGIONS.${i.path.join('.')}: ${i.message}`);
    throw new LedgerConfigError(`invalid LEDGER_REGIONS derived from the context:\n${lines.join('\n')}`);
  }
  return parsed.data;
}

/**
 * The value of the functions' LEDGER_REGIONS variable.
 *
 * @example
 * environment: { LEDGER_REGIONS: ledgerRegionsJson(config) }
 */
export function ledgerRegionsJson(config: Pick<LedgerConfig, 'regions'>): string {
  return JSON.stringify(config.regions);
}

/** The deployment's regions other than `region`, in config order. */
export function otherRegions(config: Pick<LedgerConfig, 'regions'>, region: string): string[] {
  return Object.keys(config.regions).filter((r) => r !== region);
}

/** Context keys that belong to the CDK CLI or toolkit, not to this app. */
const CDK_OWNED_KEYS: ReadonlySet<string> = new Set(['cli-telemetry', 'acknowledged-issue-numbers']);

/**
 * Picks this app's keys out of the whole context: CDK feature flags, `aws:cdk:*` keys and cached lookups
 * all contain a colon. Any other key is kept, so a misspelt key fails validation instead of being ignored.
 */
export function readLedgerContext(all: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const raw: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(all)) {
    if (key.includes(':') || CDK_OWNED_KEYS.has(key)) continue;
    if (value !== undefined && value !== null && value !== '') raw[key] = value;
  }
  return raw;
}
