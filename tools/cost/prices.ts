/**
 * AWS list prices used by `npm run cost`, in USD, for the two regions the CDK app deploys to by
 * default (cdk.json: primaryRegion us-east-2, secondaryRegion ca-central-1). One file, one date.
 *
 * Compiled 2026-11-24 from AWS's public pricing pages as known to the author (list prices of 2025,
 * after the November 2024 DynamoDB on-demand and global-tables price cut), not fetched live: check
 * them against the pages below before relying on a figure. Each price says how sure it is:
 *  - `page`: seen on an AWS pricing page or AWS document excerpt while writing this table;
 *  - `known`: the published list price as known (2025), for that region;
 *  - `estimate`: not known for that region; derived (said how) from the us-east-2 price.
 * Free tiers are ignored (a production account outgrows them).
 *
 * Sources:
 *  https://aws.amazon.com/api-gateway/pricing/            https://aws.amazon.com/lambda/pricing/
 *  https://aws.amazon.com/kinesis/data-streams/pricing/    https://aws.amazon.com/dynamodb/pricing/on-demand/
 *  https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/global-tables-billing.html
 *  https://aws.amazon.com/cloudwatch/pricing/              https://aws.amazon.com/xray/pricing/
 *  https://aws.amazon.com/kms/pricing/                     https://aws.amazon.com/ec2/pricing/on-demand/ (data transfer)
 */
export const PRICES_COMPILED_ON = '2026-11-24';
export const PRICES_BASIS =
  'AWS public list prices as known (2025, after the Nov 2024 DynamoDB cut), not fetched live; see tools/cost/prices.ts';

export type Confidence = 'page' | 'known' | 'estimate';

export interface Price {
  readonly usd: number;
  readonly unit: string;
  readonly confidence: Confidence;
  readonly note?: string;
}

export interface RegionPrices {
  readonly region: string;
  readonly name: string;
  /** HTTP API, first 300 million requests a month (then 0.90). Metered per 512 KB. */
  readonly apiHttpRequestsPerMillion: Price;
  readonly dataTransferOutPerGb: Price;
  readonly lambdaArmGbSecond: Price;
  readonly lambdaRequestsPerMillion: Price;
  /** On-demand mode: per stream-hour, per GB in (each record rounded up to 1 KB), per GB read. */
  readonly kinesisStreamHour: Price;
  readonly kinesisIngestPerGb: Price;
  readonly kinesisRetrievalPerGb: Price;
  /** Retention beyond 24 h up to 7 days (the stream keeps 7 days: used). */
  readonly kinesisExtendedRetentionPerGbMonth: Price;
  /** Not used by this app (7-day retention, no enhanced fan-out): listed for completeness. */
  readonly kinesisLongTermRetentionPerGbMonth: Price;
  readonly kinesisEnhancedFanOutPerGb: Price;
  /** On-demand write request units (a global table's replicas bill rWRU at the same price; GSIs bill WRU). */
  readonly dynamoWriteRequestsPerMillion: Price;
  readonly dynamoReplicatedWritesPerMillion: Price;
  readonly dynamoReadRequestsPerMillion: Price;
  readonly dynamoStoragePerGbMonth: Price;
  readonly dynamoPitrPerGbMonth: Price;
  readonly interRegionTransferPerGb: Price;
  readonly logsIngestPerGb: Price;
  readonly logsStoragePerGbMonth: Price;
  readonly customMetricPerMonth: Price;
  readonly alarmPerMonth: Price;
  readonly dashboardPerMonth: Price;
  readonly xrayTracesRecordedPerMillion: Price;
  readonly kmsKeyPerMonth: Price;
}

const p = (usd: number, unit: string, confidence: Confidence, note?: string): Price =>
  note === undefined ? { usd, unit, confidence } : { usd, unit, confidence, note };

/** ca-central-1 prices not known here are taken as 10% above us-east-2, the usual premium there. */
const CA_PREMIUM = 1.1;
const ca = (base: Price): Price =>
  p(
    Math.round(base.usd * CA_PREMIUM * 1e10) / 1e10,
    base.unit,
    'estimate',
    'us-east-2 price + 10% (the usual ca-central-1 premium)',
  );

export const US_EAST_2: RegionPrices = {
  region: 'us-east-2',
  name: 'US East (Ohio)',
  apiHttpRequestsPerMillion: p(
    1.0,
    'per million requests',
    'page',
    'first 300M/month; us-east-1 figure, Ohio is the same',
  ),
  dataTransferOutPerGb: p(0.09, 'per GB out to the internet', 'known'),
  lambdaArmGbSecond: p(0.0000133334, 'per GB-second (arm64)', 'known', 'first 7.5B GB-s/month'),
  lambdaRequestsPerMillion: p(0.2, 'per million requests', 'known'),
  kinesisStreamHour: p(0.04, 'per on-demand stream-hour', 'known'),
  kinesisIngestPerGb: p(0.08, 'per GB ingested (records rounded up to 1 KB)', 'known'),
  kinesisRetrievalPerGb: p(0.04, 'per GB retrieved', 'known'),
  kinesisExtendedRetentionPerGbMonth: p(0.1, 'per GB-month stored beyond 24 h (up to 7 d)', 'known'),
  kinesisLongTermRetentionPerGbMonth: p(0.023, 'per GB-month beyond 7 d (unused)', 'known'),
  kinesisEnhancedFanOutPerGb: p(0.05, 'per GB via enhanced fan-out (unused)', 'known'),
  dynamoWriteRequestsPerMillion: p(0.625, 'per million WRU', 'known', 'after the Nov 2024 cut'),
  dynamoReplicatedWritesPerMillion: p(0.625, 'per million rWRU', 'page', 'priced as WRU since Nov 2024'),
  dynamoReadRequestsPerMillion: p(0.125, 'per million RRU', 'known'),
  dynamoStoragePerGbMonth: p(0.25, 'per GB-month (Standard)', 'known'),
  dynamoPitrPerGbMonth: p(0.2, 'per GB-month (continuous backups)', 'known'),
  interRegionTransferPerGb: p(0.02, 'per GB to another region', 'known'),
  logsIngestPerGb: p(0.5, 'per GB ingested (Standard class; Lambda logs first tier)', 'known'),
  logsStoragePerGbMonth: p(0.03, 'per GB-month archived', 'known'),
  customMetricPerMonth: p(0.3, 'per metric-month (first 10k)', 'known'),
  alarmPerMonth: p(0.1, 'per standard-resolution alarm-month', 'known'),
  dashboardPerMonth: p(3.0, 'per dashboard-month', 'known'),
  xrayTracesRecordedPerMillion: p(5.0, 'per million traces recorded', 'known'),
  kmsKeyPerMonth: p(1.0, 'per customer-managed key-month', 'known'),
};

export const CA_CENTRAL_1: RegionPrices = {
  region: 'ca-central-1',
  name: 'Canada (Central)',
  apiHttpRequestsPerMillion: ca(US_EAST_2.apiHttpRequestsPerMillion),
  dataTransferOutPerGb: p(0.09, 'per GB out to the internet', 'known'),
  lambdaArmGbSecond: p(0.0000133334, 'per GB-second (arm64)', 'known', 'same as us-east-2'),
  lambdaRequestsPerMillion: p(0.2, 'per million requests', 'known'),
  kinesisStreamHour: ca(US_EAST_2.kinesisStreamHour),
  kinesisIngestPerGb: ca(US_EAST_2.kinesisIngestPerGb),
  kinesisRetrievalPerGb: ca(US_EAST_2.kinesisRetrievalPerGb),
  kinesisExtendedRetentionPerGbMonth: ca(US_EAST_2.kinesisExtendedRetentionPerGbMonth),
  kinesisLongTermRetentionPerGbMonth: ca(US_EAST_2.kinesisLongTermRetentionPerGbMonth),
  kinesisEnhancedFanOutPerGb: ca(US_EAST_2.kinesisEnhancedFanOutPerGb),
  dynamoWriteRequestsPerMillion: p(0.6875, 'per million WRU', 'known', 'after the Nov 2024 cut'),
  dynamoReplicatedWritesPerMillion: p(0.6875, 'per million rWRU', 'known', 'priced as WRU since Nov 2024'),
  dynamoReadRequestsPerMillion: p(0.1375, 'per million RRU', 'known'),
  dynamoStoragePerGbMonth: p(0.275, 'per GB-month (Standard)', 'known'),
  dynamoPitrPerGbMonth: p(0.22, 'per GB-month (continuous backups)', 'known'),
  interRegionTransferPerGb: p(0.02, 'per GB to another region', 'known'),
  logsIngestPerGb: ca(US_EAST_2.logsIngestPerGb),
  logsStoragePerGbMonth: ca(US_EAST_2.logsStoragePerGbMonth),
  customMetricPerMonth: p(0.3, 'per metric-month (first 10k)', 'known'),
  alarmPerMonth: p(0.1, 'per standard-resolution alarm-month', 'known'),
  dashboardPerMonth: p(3.0, 'per dashboard-month', 'known'),
  xrayTracesRecordedPerMillion: p(5.0, 'per million traces recorded', 'known'),
  kmsKeyPerMonth: p(1.0, 'per customer-managed key-month', 'known'),
};

export const REGION_PRICES: Readonly<Record<string, RegionPrices>> = {
  [US_EAST_2.region]: US_EAST_2,
  [CA_CENTRAL_1.region]: CA_CENTRAL_1,
};
