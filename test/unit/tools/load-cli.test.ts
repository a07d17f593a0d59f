import { describe, expect, it } from 'vitest';
import { summarize } from '../../../tools/bench/stats.js';
import { formatSummary, parseLoadArgs } from '../../../tools/load/cli.js';

describe('npm run load arguments', () => {
  it('reads the documented options with their defaults', () => {
    const { options, help } = parseLoadArgs([
      '--rate',
      '50',
      '--duration',
      '20',
      '--accounts',
      '300',
      '--hot',
      '0.5',
    ]);
    expect(help).toBe(false);
    expect(options).toMatchObject({
      baseUrl: 'http://localhost:3000',
      rate: 50,
      durationS: 20,
      accounts: 300,
      hot: 0.5,
      setup: false,
      maxInFlight: 256,
      sample: 0.1,
      prefix: 'load',
      headers: {},
    });
  });

  it('takes a base URL, --setup and repeated headers', () => {
    const { options, json } = parseLoadArgs([
      '--base-url',
      'https://api.example.com',
      '--setup',
      '--header',
      'Authorization: Bearer abc',
      '--header',
      'x-trace: 1',
      '--json',
      'out.json',
    ]);
    expect(options.baseUrl).toBe('https://api.example.com');
    expect(options.setup).toBe(true);
    expect(options.headers).toEqual({ authorization: 'Bearer abc', 'x-trace': '1' });
    expect(json).toBe('out.json');
  });

  it('refuses out-of-range values and unknown options', () => {
    expect(() => parseLoadArgs(['--hot', '1.5'])).toThrow(/--hot/);
    expect(() => parseLoadArgs(['--rate', '0'])).toThrow(/--rate/);
    expect(() => parseLoadArgs(['--accounts', '1'])).toThrow(/--accounts/);
    expect(() => parseLoadArgs(['--prefix', 'a#b'])).toThrow(/--prefix/);
    expect(() => parseLoadArgs(['--header', 'no-colon'])).toThrow(/--header/);
    expect(() => parseLoadArgs(['--bogus'])).toThrow();
  });

  it('prints the closing summary with percentiles and statuses', () => {
    const text = formatSummary({
      baseUrl: 'http://x',
      offeredRate: 10,
      durationS: 2,
      planned: 20,
      sent: 19,
      dropped: 1,
      statuses: { '202': 18, timeout: 1 },
      accepted: 18,
      acceptedPerSecond: 9,
      acceptLatencyMs: summarize([10, 20, 30]),
      serviceTimeMs: summarize([9, 19, 29]),
      followed: 2,
      followSkipped: 0,
      followTimedOut: 0,
      finalStatuses: { POSTED: 2 },
      acceptToPostedMs: summarize([100, 200]),
      observedToFinalMs: summarize([150, 250]),
    });
    expect(text).toContain('dropped 1');
    expect(text).toContain('{"202":18,"timeout":1}');
    expect(text).toMatch(/accept \(from due time\)\s+n=3\s+p50 20\.0 ms/);
    expect(text).toMatch(/accept-to-posted \(server\)\s+n=2\s+p50 100\.0 ms/);
  });
});
