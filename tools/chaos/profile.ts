import { type FaultRates, NO_FAULTS } from './fault-proxy.js';

/**
 * How hard the fault proxies hit: low "calm" rates most of the time, and short "storms" where a
 * good share of calls fail (enough to exhaust the SDK's own retries and reach the project's
 * handling: 503s at the edge, failed records in the consumer, redeliveries).
 */
export interface FaultProfile {
  readonly calm: FaultRates;
  readonly storm: FaultRates;
  readonly calmMs: number;
  readonly stormMs: number;
}

const CALM: FaultRates = {
  putRecordsRefuse: 0.1,
  kinesisThrottle: 0.02,
  getRecordsRepeat: 0.1,
  dynamodbThrottle: 0.03,
  transactionConflict: 0.08,
  ambiguous: 0.03,
  delay: 0.05,
  delayMsMax: 150,
};

const STORM: FaultRates = {
  putRecordsRefuse: 0.5,
  kinesisThrottle: 0.2,
  getRecordsRepeat: 0.3,
  dynamodbThrottle: 0.3,
  transactionConflict: 0.4,
  ambiguous: 0.15,
  delay: 0.2,
  delayMsMax: 300,
};

export const FAULT_PROFILES = {
  none: { calm: NO_FAULTS, storm: NO_FAULTS, calmMs: 60_000, stormMs: 0 },
  light: {
    calm: { ...CALM, putRecordsRefuse: 0.05, transactionConflict: 0.03, ambiguous: 0.01 },
    storm: CALM,
    calmMs: 8_000,
    stormMs: 1_000,
  },
  heavy: { calm: CALM, storm: STORM, calmMs: 4_500, stormMs: 1_500 },
} as const satisfies Record<string, FaultProfile>;
export type FaultProfileName = keyof typeof FAULT_PROFILES;

export function isFaultProfileName(name: string): name is FaultProfileName {
  return Object.hasOwn(FAULT_PROFILES, name);
}
