import * as fs from 'node:fs';
import { App, Stack } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { afterEach, describe, expect, it } from 'vitest';
import { acknowledge, applyNagPacks } from '../../infra-cdk/nag.js';
import { makeTempDir } from './synth.js';

/**
 * Proves the "no unacknowledged finding" assertions can fail: the same packs, wired the same way, stop
 * synthesis on a non-compliant resource, and an acknowledgement lifts exactly the finding it names.
 */
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

function appWithPlainQueue(): { app: App; queue: sqs.Queue } {
  const outdir = makeTempDir();
  dirs.push(outdir);
  const app = new App({ outdir });
  const stack = new Stack(app, 'NagProbe', { env: { account: '123456789012', region: 'us-east-2' } });
  const queue = new sqs.Queue(stack, 'Plain', { encryption: sqs.QueueEncryption.UNENCRYPTED });
  new logs.LogGroup(stack, 'PlainLogs', { retention: logs.RetentionDays.ONE_WEEK });
  applyNagPacks(app);
  return { app, queue };
}

describe('cdk-nag wiring', () => {
  it('fails synth on unacknowledged AwsSolutions and PCI DSS findings', () => {
    const { app } = appWithPlainQueue();
    expect(() => app.synth()).toThrow(/AwsSolutions-SQS3[\s\S]*PCI\.DSS\.321-CloudWatchLogGroupEncrypted/);
  });

  it('lifts only the acknowledged findings', () => {
    const { app, queue } = appWithPlainQueue();
    acknowledge(queue, ['AwsSolutions-SQS3'], 'Probe queue: no dead-letter queue needed in this test.');
    let message = '';
    try {
      app.synth();
    } catch (error) {
      message = String(error);
    }
    expect(message).not.toMatch(/AwsSolutions-SQS3\b/);
    expect(message).toMatch(/AwsSolutions-SQS4/);
  });
});
