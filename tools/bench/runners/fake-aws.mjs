// A stand-in DynamoDB + Kinesis endpoint for the warm-CPU measurement, run in its own process so
// that its CPU is not counted against the handler being measured. It answers every call with a
// valid minimal success body, at once, and counts calls per operation (GET /__stats).
import { createServer } from 'node:http';

const counts = {};
const SHARD = 'shardId-000000000000';

function answer(operation, body) {
  switch (operation) {
    case 'PutItem':
    case 'UpdateItem':
    case 'DeleteItem':
    case 'GetItem':
    case 'TransactWriteItems':
      return {};
    case 'BatchGetItem':
      return { Responses: {}, UnprocessedKeys: {} };
    case 'PutRecords': {
      const records = JSON.parse(body).Records ?? [];
      return {
        FailedRecordCount: 0,
        Records: records.map((_, i) => ({ SequenceNumber: String(i + 1), ShardId: SHARD })),
      };
    }
    case 'PutRecord':
      return { SequenceNumber: '1', ShardId: SHARD };
    default:
      return undefined;
  }
}

const server = createServer((req, res) => {
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    if (req.method === 'GET' && req.url === '/__stats') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(counts));
      return;
    }
    const target = String(req.headers['x-amz-target'] ?? '');
    const [service = '', operation = ''] = target.split('.');
    counts[operation] = (counts[operation] ?? 0) + 1;
    const result = answer(operation, Buffer.concat(chunks).toString('utf8'));
    const json = service.startsWith('Kinesis') ? 'application/x-amz-json-1.1' : 'application/x-amz-json-1.0';
    const body = JSON.stringify(
      result ?? { __type: 'com.amazonaws#UnknownOperationException', message: `fake: ${target}` },
    );
    res.writeHead(result === undefined ? 400 : 200, {
      'content-type': json,
      'content-length': Buffer.byteLength(body),
      'x-amzn-requestid': 'fake-request',
    });
    res.end(body);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
