// Warm CPU of one bundled ingest handler: imports it, sends `warmup` then `requests` API Gateway v2
// events for POST /v1/transfers one after another (as Lambda does), and reports process.cpuUsage
// (user + system) over the measured requests through the IPC channel. Its AWS calls go to the fake
// endpoint (AWS_ENDPOINT_URL_DYNAMODB / _KINESIS), a separate process.
import { pathToFileURL } from 'node:url';

const [bundle, warmupArg, requestsArg, tag] = process.argv.slice(2);
if (bundle === undefined || process.send === undefined)
  throw new Error('usage (forked): cpu-runner.mjs <bundle> <warmup> <requests> <tag>');
const warmup = Number(warmupArg);
const requests = Number(requestsArg);
const { handler } = await import(pathToFileURL(bundle).href);

const context = {
  callbackWaitsForEmptyEventLoop: true,
  functionName: 'ingest-api',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-east-2:123456789012:function:ingest-api',
  memoryLimitInMB: '1024',
  awsRequestId: 'bench',
  logGroupName: '/aws/lambda/ingest-api',
  logStreamName: 'bench',
  getRemainingTimeInMillis: () => 15_000,
  done: () => {},
  fail: () => {},
  succeed: () => {},
};

function event(n) {
  const body = JSON.stringify({
    id: `cpu-${tag}-${process.pid}-${n}`,
    debitAccountId: `acct-${String(n % 1000).padStart(6, '0')}`,
    creditAccountId: `acct-${String((n + 1) % 1000).padStart(6, '0')}`,
    amount: String(1 + (n % 9999)),
    currency: 'USD',
  });
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: '/v1/transfers',
    rawQueryString: '',
    headers: {
      host: 'api.example.test',
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength(body)),
      'user-agent': 'bench',
    },
    requestContext: {
      accountId: '123456789012',
      apiId: 'bench',
      domainName: 'api.example.test',
      domainPrefix: 'api',
      http: {
        method: 'POST',
        path: '/v1/transfers',
        protocol: 'HTTP/1.1',
        sourceIp: '192.0.2.1',
        userAgent: 'bench',
      },
      requestId: `req-${n}`,
      routeKey: '$default',
      stage: '$default',
      time: '01/Mar/2025:09:00:00 +0000',
      timeEpoch: 1_740_819_600_000,
    },
    body,
    isBase64Encoded: false,
  };
}

const statuses = {};
async function send(n) {
  const result = await handler(event(n), context);
  statuses[result.statusCode] = (statuses[result.statusCode] ?? 0) + 1;
}

for (let n = 0; n < warmup; n++) await send(n);
const before = process.cpuUsage();
const began = performance.now();
for (let n = warmup; n < warmup + requests; n++) await send(n);
const used = process.cpuUsage(before);
const wallMs = performance.now() - began;
process.send({ cpuMicros: used.user + used.system, wallMs, requests, statuses }, () => process.exit(0));
