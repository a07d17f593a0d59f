import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CDK_DEFAULTS, readCdkSettings } from '../../../tools/cost/cdk-settings.js';

const ROOT = resolve(import.meta.dirname, '../../..');

describe('cost model CDK settings', () => {
  it('--no-synth defaults match what the CDK app synthesizes (memory, mapping, alarms, keys)', () => {
    const synthesized = readCdkSettings(ROOT);
    expect({ ...synthesized, source: 'defaults' }).toEqual(CDK_DEFAULTS);
  }, 60_000);
});
