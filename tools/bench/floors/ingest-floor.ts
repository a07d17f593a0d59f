import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { createClients } from '../../../shared/adapters/clients.js';
import { floorConfig } from './env.js';

/**
 * The floor the ingest function is measured against (init time, warm CPU): the same SDK clients,
 * created the same way (shared/adapters/clients.ts), and a handler making the same AWS calls as a
 * POST /v1/transfers (a conditional PutItem of an item with the same attributes, then one PutRecords
 * of a command-sized record), with JSON.parse as its only input handling: no framework, no
 * validation, no logging. Bundled by tools/bench with the CDK options.
 */
const config = floorConfig();
const { dynamodb, kinesis } = createClients(config);
const encoder = new TextEncoder();

export const handler = async (event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> => {
  const body = JSON.parse(event.body ?? '{}') as Record<string, string>;
  const id = String(body.id);
  const acceptedAt = new Date().toISOString();
  await dynamodb.send(
    new PutItemCommand({
      TableName: config.tableName,
      Item: {
        pk: { S: `XFER#${id}` },
        sk: { S: 'XFER' },
        kind: { S: 'transfer' },
        id: { S: id },
        debitAccountId: { S: String(body.debitAccountId) },
        creditAccountId: { S: String(body.creditAccountId) },
        amount: { N: String(body.amount) },
        currency: { S: String(body.currency) },
        fingerprint: { S: id },
        status: { S: 'ACCEPTED' },
        acceptedAt: { S: acceptedAt },
        gsi1pk: { S: `PENDING#${String(id.length % 16).padStart(2, '0')}` },
        gsi1sk: { S: `${acceptedAt}#${id}` },
      },
      ConditionExpression: 'attribute_not_exists(pk)',
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    }),
  );
  await kinesis.send(
    new PutRecordsCommand({
      StreamName: config.streamName,
      Records: [
        {
          PartitionKey: String(body.debitAccountId),
          Data: encoder.encode(
            JSON.stringify({ v: 1, type: 'transfer', fingerprint: id, acceptedAt, transfer: body }),
          ),
        },
      ],
    }),
  );
  return {
    statusCode: 202,
    headers: { 'content-type': 'application/json', location: `/v1/transfers/${id}` },
    body: JSON.stringify({ ...body, status: 'ACCEPTED', acceptedAt }),
  };
};
