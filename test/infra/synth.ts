import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { buildLedgerApp, type LedgerApp } from '../../infra-cdk/ledger-app.js';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const TEST_ACCOUNT = '123456789012';
/** Synth (once per test file) takes seconds; the default hook timeout is too short on 2 cores. */
export const SYNTH_TIMEOUT_MS = 60_000;

/** The context `cdk synth` sees: cdk.json's, so tests check the same settings and feature flags. */
export function cdkJsonContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'cdk.json'), 'utf8')) as {
    context: Record<string, unknown>;
  };
  return cdkJson.context;
}

export interface SynthesizedLedger {
  readonly ledger: LedgerApp;
  readonly outdir: string;
  readonly primary: Template;
  readonly secondary: Template;
  readonly replicaKey: Template;
  /** The CDK validation report (cdk-nag and the built-in checks), as written to the cloud assembly. */
  readonly validationReport: { pluginReports: { pluginName?: string; violations?: unknown[] }[] };
  /** Deletes the temporary cloud assembly directory. */
  readonly cleanup: () => void;
}

/** A temporary directory for test inputs and outputs; the caller removes it. */
export function makeTempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'ledger-infra-'));
}

/**
 * Builds and synthesizes the whole app (all stacks, cdk-nag included) with bundling skipped, into a
 * temporary directory. Throws if synthesis or validation fails.
 */
export function synthLedger(
  overrides: Readonly<Record<string, unknown>> = {},
  outdir: string = makeTempDir(),
): SynthesizedLedger {
  const cleanup = () => fs.rmSync(outdir, { recursive: true, force: true });
  try {
    const app = new App({
      outdir,
      context: {
        ...cdkJsonContext(),
        'aws:cdk:bundling-stacks': [],
        account: TEST_ACCOUNT,
        ...overrides,
      },
    });
    const ledger = buildLedgerApp(app, { projectRoot: REPO_ROOT });
    const assembly = app.synth();
    const template = (name: string) => Template.fromJSON(assembly.getStackByName(name).template);
    const report = path.join(outdir, 'validation-report.json');
    return {
      ledger,
      outdir,
      primary: template(ledger.primary.stackName),
      secondary: template(ledger.secondary.stackName),
      replicaKey: template(ledger.replicaKey.stackName),
      validationReport: JSON.parse(fs.readFileSync(report, 'utf8')) as SynthesizedLedger['validationReport'],
      cleanup,
    };
  } catch (error) {
    cleanup();
    throw error;
  }
}

type Resources = Record<string, { Type: string; Properties?: Record<string, unknown>; Metadata?: unknown }>;

/** All resources of a type in a template, by logical id. */
export function resourcesOf(template: Template, type: string): Resources {
  return template.findResources(type) as Resources;
}

export interface PolicyStatementJson {
  readonly Sid?: string;
  readonly Effect: string;
  readonly Action: string | string[];
  readonly Resource: unknown;
  readonly Condition?: Record<string, Record<string, unknown>>;
}

/**
 * Every statement of the IAM policies attached to the role with this logical-id prefix: inline policies
 * (AWS::IAM::Policy) and customer managed policies (AWS::IAM::ManagedPolicy) that name the role.
 */
export function roleStatements(template: Template, roleLogicalIdPrefix: string): PolicyStatementJson[] {
  const roles = Object.keys(resourcesOf(template, 'AWS::IAM::Role')).filter((id) =>
    id.startsWith(roleLogicalIdPrefix),
  );
  if (roles.length !== 1)
    throw new Error(`expected one role ${roleLogicalIdPrefix}*, found ${roles.join(', ')}`);
  const policies = [
    ...Object.values(resourcesOf(template, 'AWS::IAM::Policy')),
    ...Object.values(resourcesOf(template, 'AWS::IAM::ManagedPolicy')),
  ].filter((p) => ((p.Properties?.Roles ?? []) as { Ref: string }[]).some((r) => r.Ref === roles[0]));
  return policies.flatMap(
    (p) =>
      (p.Properties?.PolicyDocument as { Statement?: PolicyStatementJson[] } | undefined)?.Statement ?? [],
  );
}

export function actionsOf(statement: PolicyStatementJson): string[] {
  return Array.isArray(statement.Action) ? statement.Action : [statement.Action];
}

/** The statement's resources as a list (a literal ARN, or an intrinsic such as `Fn::GetAtt`). */
export function resourcesOfStatement(statement: PolicyStatementJson): unknown[] {
  return Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource];
}

/** Statements that allow any of these actions (exact names, or a wildcard that covers them). */
export function statementsAllowing(
  statements: PolicyStatementJson[],
  actions: string[],
): PolicyStatementJson[] {
  return statements.filter(
    (s) =>
      s.Effect === 'Allow' &&
      actionsOf(s).some((granted) => actions.some((wanted) => actionMatches(granted, wanted))),
  );
}

function actionMatches(granted: string, wanted: string): boolean {
  const pattern = new RegExp(`^${granted.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`, 'i');
  return pattern.test(wanted);
}
