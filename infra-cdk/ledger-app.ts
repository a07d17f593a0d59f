import { type App, Tags } from 'aws-cdk-lib';
import { type LedgerConfig, parseLedgerConfig, readLedgerContext } from './config.js';
import { applyNagPacks } from './nag.js';
import { LedgerStack } from './stacks/ledger-stack.js';
import { ReplicaKeyStack } from './stacks/replica-key-stack.js';

export interface LedgerAppOptions {
  /** Absolute path of the repository root (entry files, package-lock.json, tsconfig.json). */
  readonly projectRoot: string;
  /** Account used when the context has none; `cdk` sets CDK_DEFAULT_ACCOUNT from the credentials. */
  readonly defaultAccount?: string | undefined;
}

export interface LedgerApp {
  readonly config: LedgerConfig;
  readonly replicaKey: ReplicaKeyStack;
  readonly primary: LedgerStack;
  readonly secondary: LedgerStack;
}

/** Stack name of a region's ledger stack. */
export function ledgerStackName(region: string): string {
  return `LedgerStack-${region}`;
}

/** Stack name of the replica key stack in a region. */
export function replicaKeyStackName(region: string): string {
  return `LedgerReplicaKey-${region}`;
}

/**
 * Adds the ledger's stacks to an app, from its validated context, and the cdk-nag rule packs. Deploy order
 * (by stack dependencies): replica key (secondary region), primary stack (creates the global table), then
 * the secondary stack. Throws LedgerConfigError on bad context.
 *
 * @example
 * const app = new App();
 * buildLedgerApp(app, { projectRoot: process.cwd() });
 */
export function buildLedgerApp(app: App, options: LedgerAppOptions): LedgerApp {
  const config = parseLedgerConfig(readLedgerContext(app.node.getAllContext()), options.defaultAccount);
  const env = (region: string) => ({ account: config.account, region });
  const common = { config, bundling: { projectRoot: options.projectRoot }, terminationProtection: true };

  const replicaKey = new ReplicaKeyStack(app, replicaKeyStackName(config.secondaryRegion), {
    env: env(config.secondaryRegion),
    description: 'Edge ledger: ledger table key in the replica region',
    tableName: config.tableName,
    terminationProtection: true,
  });
  const primary = new LedgerStack(app, ledgerStackName(config.primaryRegion), {
    ...common,
    env: env(config.primaryRegion),
    description: `Edge ledger in ${config.primaryRegion} (primary: owns the global table)`,
    placement: 'primary',
  });
  primary.addStackDependency(replicaKey, 'the global table replica needs its key to exist');
  const secondary = new LedgerStack(app, ledgerStackName(config.secondaryRegion), {
    ...common,
    env: env(config.secondaryRegion),
    description: `Edge ledger in ${config.secondaryRegion} (uses the global table replica)`,
    placement: 'secondary',
    replicaKey: replicaKey.key,
  });
  secondary.addStackDependency(primary, 'the functions use the table replica the primary stack creates');

  Tags.of(app).add('application', 'edge-ledger');
  applyNagPacks(app);
  return { config, replicaKey, primary, secondary };
}
