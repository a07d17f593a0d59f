import { parseArgs } from 'node:util';
import { z } from 'zod';
import { AwsRegionWriters } from '../../shared/adapters/aws-region-writers.js';
import { createClients } from '../../shared/adapters/clients.js';
import { DynamoRegionAdmin } from '../../shared/adapters/dynamo-region-admin.js';
import type { RegionAdmin } from '../../shared/ports/region-admin.js';
import { FailoverService } from '../../shared/services/failover-service.js';
import { CONTROL_PORT_DEFAULT } from '../local/sim-control.js';

const USAGE = `Usage: npm run ops -- <command> [options]

Region operations, against the local two-region simulation (npm start -- --two-regions) or AWS.

  failover --from <R1> --to <R2>   fence R1, re-home its accounts to R2 (writes in R2's replica);
                                   on AWS also disables R1's consumer mapping and reconciler rule
  failback --to <R1> --from <R2>   once R1 has caught up, give it its accounts back, unfence it;
                                   on AWS re-enables its consumer mapping and reconciler rule
  reapply --region <R>             void writes of a fenced region that arrived after the failover (the
                                   audit's voided_write): put back to ACCEPTED where that is exact, so
                                   R's reconciler applies them again; lists the rest
  Options: --aws --table <name>   act on the AWS global table (default credentials)
                    --wait <s>              replication barrier timeout for failback (default 30)

Simulation only (talk to the running simulation's control port):
  status | outage <region> | restore <region> | partition | heal | lag <ms>
  --control <url>   default http://127.0.0.1:${CONTROL_PORT_DEFAULT}

Exit 0 when done, 1 when some accounts could not be moved (run again), 2 on bad usage.`;

const SimStatus = z.object({
  dynamodbEndpoint: z.string(),
  regions: z.array(z.object({ region: z.string(), tableName: z.string() })),
});

// The SDK's Node 20 notice is not actionable for a local tool (Lambda runs the newest Node).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    args: process.argv.slice(2),
    allowPositionals: true,
    strict: true,
    options: {
      from: { type: 'string' },
      region: { type: 'string' },
      to: { type: 'string' },
      aws: { type: 'boolean', default: false },
      table: { type: 'string' },
      wait: { type: 'string' },
      control: { type: 'string', default: `http://127.0.0.1:${CONTROL_PORT_DEFAULT}` },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const [command, arg] = positionals;
  if (values.help || command === undefined) {
    console.log(USAGE);
    return values.help ? 0 : 2;
  }
  const control = values.control;
  switch (command) {
    case 'status':
      return show(await simulation(control, 'GET', '/status'));
    case 'outage':
    case 'restore':
      if (arg === undefined) return usage(`${command} needs a region`);
      return show(await simulation(control, 'POST', `/regions/${arg}/${command}`));
    case 'partition':
    case 'heal':
      return show(await simulation(control, 'POST', `/${command}`));
    case 'lag':
      if (arg === undefined || !/^\d+$/.test(arg)) return usage('lag needs milliseconds');
      return show(await simulation(control, 'POST', `/lag/${arg}`));
    case 'reapply': {
      const region = values.region;
      if (region === undefined) return usage('reapply needs --region');
      const admins = values.aws ? awsAdmins([region], values.table) : await simulationAdmins(control);
      const report = await new FailoverService({ admins, log: (line) => console.log(line) }).reapply(region);
      console.log(`put back to ACCEPTED: ${report.reset.join(', ') || 'none'}`);
      if (report.unresolved.length > 0) console.log(`left to an operator: ${report.unresolved.join(', ')}`);
      return report.unresolved.length === 0 ? 0 : 1;
    }
    case 'failover':
    case 'failback': {
      const { from, to } = values;
      if (from === undefined || to === undefined) return usage(`${command} needs --from and --to`);
      const admins = values.aws ? awsAdmins([from, to], values.table) : await simulationAdmins(control);
      const service = new FailoverService({
        admins,
        ...(values.aws && values.table !== undefined ? { writers: new AwsRegionWriters(values.table) } : {}),
        log: (line) => console.log(line),
      });
      const waitMs = values.wait === undefined ? undefined : Number(values.wait) * 1000;
      const report =
        command === 'failover' ? await service.failover(from, to) : await service.failback(to, from, waitMs);
      console.log(
        `${command} ${report.from} -> ${report.to}: ${report.rehomed} account(s) moved` +
          (report.failed.length === 0 ? '' : `; NOT moved (run again): ${report.failed.join(', ')}`),
      );
      return report.failed.length === 0 ? 0 : 1;
    }
    default:
      return usage(`unknown command ${command}`);
  }
}

function usage(message: string): number {
  console.error(`${message}\n\n${USAGE}`);
  return 2;
}

function show(body: unknown): number {
  console.log(JSON.stringify(body, null, 2));
  return 0;
}

async function simulation(control: string, method: 'GET' | 'POST', path: string): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(`${control}${path}`, { method });
  } catch {
    throw new Error(`no simulation at ${control}: start it with npm start -- --two-regions`);
  }
  const body = (await res.json()) as unknown;
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(body)}`);
  return body;
}

/** The simulation's tables through the emulator. */
async function simulationAdmins(control: string): Promise<Map<string, RegionAdmin>> {
  const status = SimStatus.parse(await simulation(control, 'GET', '/status'));
  return new Map(
    status.regions.map((r) => {
      const { dynamodb } = createClients({
        awsRegion: r.region,
        dynamodbEndpoint: status.dynamodbEndpoint,
        kinesisEndpoint: undefined,
      });
      return [r.region, new DynamoRegionAdmin(dynamodb, r.tableName, r.region)];
    }),
  );
}

/** The global table's replicas in each region (the operator role's credentials). */
function awsAdmins(regions: readonly string[], table: string | undefined): Map<string, RegionAdmin> {
  if (table === undefined) throw new Error('--aws needs --table <global table name>');
  return new Map(
    regions.map((region) => {
      const { dynamodb } = createClients({
        awsRegion: region,
        dynamodbEndpoint: undefined,
        kinesisEndpoint: undefined,
      });
      return [region, new DynamoRegionAdmin(dynamodb, table, region)];
    }),
  );
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
