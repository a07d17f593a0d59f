/**
 * Physical names the ledger gives its resources, the same in every region and derived from the table name
 * alone. One region's stack builds the ARNs of another region's table replica, stream, consumer and
 * reconciler rule from them (`arn:aws:kinesis:<region>:<account>:stream/<streamName>`), so the two regional
 * stacks grant on each other's resources without cross-region references, which would also make them
 * depend on each other.
 */
export interface LedgerNames {
  /** The global table: one name, a replica in every region. */
  readonly tableName: string;
  /** Each region's Kinesis stream of ledger commands. */
  readonly streamName: string;
  /** Each region's ledger consumer function (the operator role switches its event source mapping). */
  readonly consumerFunctionName: string;
  /** Each region's EventBridge rule that runs the reconciler (the operator role disables and enables it). */
  readonly reconcilerRuleName: string;
  /** KMS alias of the table key in each region, without `alias/`. */
  readonly tableKeyAlias: string;
  /** KMS alias of the stream key in each region, without `alias/`. */
  readonly streamKeyAlias: string;
}

/** Suffixes appended to the table name; the longest bounds the table name (infra-cdk/config.ts). */
const SUFFIX = {
  stream: '-transfers',
  consumer: '-consumer',
  reconcilerRule: '-reconciler',
} as const;

/** Lambda function names and EventBridge rule names: at most 64 characters. */
const FUNCTION_OR_RULE_NAME_LENGTH_MAX = 64;

/** Longest table name whose derived names all fit their service's limit. */
export const TABLE_NAME_LENGTH_MAX =
  FUNCTION_OR_RULE_NAME_LENGTH_MAX - Math.max(SUFFIX.consumer.length, SUFFIX.reconcilerRule.length);

/**
 * The names of a deployment's resources, from its table name (validated by infra-cdk/config.ts).
 *
 * @example
 * ledgerNames('edge-ledger').streamName; // 'edge-ledger-transfers'
 */
export function ledgerNames(tableName: string): LedgerNames {
  return {
    tableName,
    streamName: `${tableName}${SUFFIX.stream}`,
    consumerFunctionName: `${tableName}${SUFFIX.consumer}`,
    reconcilerRuleName: `${tableName}${SUFFIX.reconcilerRule}`,
    tableKeyAlias: `${tableName}/table`,
    streamKeyAlias: `${tableName}/stream`,
  };
}

/** A region as the letters and digits of a policy statement id: `ca-central-1` -> `CaCentral1`. */
export function regionSidSuffix(region: string): string {
  return region
    .split('-')
    .map((part) => `${part.charAt(0).toUpperCase()}${part.slice(1)}`)
    .join('');
}
