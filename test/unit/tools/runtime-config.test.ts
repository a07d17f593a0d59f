import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../shared/config.js';

/** shared/config.ts: the runtime configuration every function parses at cold start. */
const BASE = {
  LEDGER_TABLE_NAME: 'edge-ledger',
  TRANSFER_STREAM_NAME: 'edge-ledger-transfers',
  AWS_REGION: 'us-east-2',
};
const TWO = JSON.stringify({
  'us-east-2': { tableName: 'edge-ledger', streamName: 'edge-ledger-transfers' },
  'ca-central-1': { tableName: 'edge-ledger', streamName: 'edge-ledger-transfers' },
});

describe('runtime configuration', () => {
  it('is one region (this one) without LEDGER_REGIONS', () => {
    const config = loadConfig(BASE);
    expect([...config.regions.keys()]).toEqual(['us-east-2']);
    expect(config.ledgerRegion).toBe('us-east-2');
  });

  it('lists every region of LEDGER_REGIONS, this one first', () => {
    const config = loadConfig({ ...BASE, AWS_REGION: 'ca-central-1', LEDGER_REGIONS: TWO });
    expect([...config.regions.keys()]).toEqual(['ca-central-1', 'us-east-2']);
    expect(config.regions.get('us-east-2')).toEqual({
      tableName: 'edge-ledger',
      streamName: 'edge-ledger-transfers',
    });
  });

  it('refuses LEDGER_REGIONS that is not JSON, names no region, or has a bad name', () => {
    for (const bad of [
      'not json',
      '{}',
      '{"us-east-2":{"tableName":"a b","streamName":"s"}}',
      '{"nowhere":{"tableName":"t","streamName":"s"}}',
      '{"us-east-2":{"tableName":"t","streamName":"s","extra":1}}',
    ]) {
      expect(() => loadConfig({ ...BASE, LEDGER_REGIONS: bad }), bad).toThrow(ConfigError);
    }
  });

  it('refuses LEDGER_REGIONS whose entry for this region contradicts its own names', () => {
    const other = JSON.stringify({
      'us-east-2': { tableName: 'other', streamName: 'edge-ledger-transfers' },
    });
    expect(() => loadConfig({ ...BASE, LEDGER_REGIONS: other })).toThrow(/differs from this region/);
  });
});
