import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TwoRegionStack } from './two-regions.js';

export const CONTROL_PORT_DEFAULT = 3002;
const LAG_MS_MAX = 60_000;

/**
 * The simulation's control panel (not part of the product API): what `npm run ops -- outage|restore|
 * partition|heal|lag|status` talks to while `npm start -- --two-regions` runs.
 *
 *   GET  /status                     regions, API URLs, tables, streams, replication figures
 *   POST /regions/{region}/outage    the region goes dark
 *   POST /regions/{region}/restore   the region returns (replication catches up first)
 *   POST /partition | /heal          cut or restore everything between the regions
 *   POST /lag/{ms}                   replication lag
 */
export async function startControlServer(stack: TwoRegionStack, port: number): Promise<Server> {
  const server = createServer((req, res) => {
    route(stack, req).then(
      ({ status, body }) => reply(res, status, body),
      (error: unknown) => reply(res, 500, { error: error instanceof Error ? error.message : String(error) }),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return server;
}

export function controlUrl(server: Server): string {
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function route(
  stack: TwoRegionStack,
  req: IncomingMessage,
): Promise<{ status: number; body: unknown }> {
  const path = new URL(req.url ?? '/', 'http://control').pathname;
  const method = req.method ?? 'GET';
  if (method === 'GET' && path === '/status') return { status: 200, body: statusOf(stack) };
  if (method !== 'POST') return { status: 405, body: { error: 'use GET /status or POST' } };
  const region = /^\/regions\/([a-z0-9-]+)\/(outage|restore)$/.exec(path);
  if (region?.[1] !== undefined && region[2] !== undefined) {
    if (!stack.regions.includes(region[1]))
      return { status: 404, body: { error: `unknown region ${region[1]}` } };
    if (region[2] === 'outage') await stack.outage(region[1]);
    else await stack.restore(region[1]);
    return { status: 200, body: statusOf(stack) };
  }
  if (path === '/partition') stack.partition();
  else if (path === '/heal') stack.heal();
  else {
    const lag = /^\/lag\/(\d{1,5})$/.exec(path);
    const ms = lag?.[1] === undefined ? Number.NaN : Number(lag[1]);
    if (!(ms >= 0 && ms <= LAG_MS_MAX)) return { status: 404, body: { error: `no such control: ${path}` } };
    stack.replicator.setLagMs(ms);
  }
  return { status: 200, body: statusOf(stack) };
}

function statusOf(stack: TwoRegionStack) {
  return {
    regions: stack.status(),
    partitioned: stack.network.isPartitioned(),
    replication: stack.replicator.stats(),
    dynamodbEndpoint: stack.endpoints.dynamodbEndpoint,
  };
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(`${JSON.stringify(body, null, 2)}\n`);
}
