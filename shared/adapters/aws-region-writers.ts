import { DisableRuleCommand, EnableRuleCommand, EventBridgeClient } from '@aws-sdk/client-eventbridge';
import {
  LambdaClient,
  ListEventSourceMappingsCommand,
  UpdateEventSourceMappingCommand,
} from '@aws-sdk/client-lambda';
import type { RegionWriters } from '../ports/region-admin.js';

/** Event source mappings of one function listed at most (it has one: the stream). */
const MAPPINGS_MAX = 10;
const SDK_ATTEMPTS_MAX = 3;

/**
 * Switches a region's writers on AWS, by the names the CDK app gives them (infra-cdk/names.ts):
 * the event source mappings of `<table>-consumer` and the rule `<table>-reconciler`. The operator
 * role (LedgerOperatorRole) allows exactly these calls.
 */
export class AwsRegionWriters implements RegionWriters {
  constructor(private readonly tableName: string) {}

  async setWriters(region: string, enabled: boolean): Promise<string> {
    const lambda = new LambdaClient({ region, maxAttempts: SDK_ATTEMPTS_MAX });
    const events = new EventBridgeClient({ region, maxAttempts: SDK_ATTEMPTS_MAX });
    try {
      const functionName = `${this.tableName}-consumer`;
      const ruleName = `${this.tableName}-reconciler`;
      const listed = await lambda.send(
        new ListEventSourceMappingsCommand({ FunctionName: functionName, MaxItems: MAPPINGS_MAX }),
      );
      const mappings = (listed.EventSourceMappings ?? []).flatMap((m) =>
        m.UUID === undefined ? [] : [m.UUID],
      );
      for (const uuid of mappings) {
        await lambda.send(new UpdateEventSourceMappingCommand({ UUID: uuid, Enabled: enabled }));
      }
      await events.send(
        enabled ? new EnableRuleCommand({ Name: ruleName }) : new DisableRuleCommand({ Name: ruleName }),
      );
      const verb = enabled ? 'enabled' : 'disabled';
      return `${region}: ${verb} ${mappings.length} event source mapping(s) of ${functionName} and rule ${ruleName}`;
    } finally {
      lambda.destroy();
      events.destroy();
    }
  }
}
