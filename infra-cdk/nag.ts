import { type App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, PCIDSS321Checks } from 'cdk-nag';
import type { IConstruct } from 'constructs';

/**
 * Runs the AWS Solutions and PCI DSS 3.2.1 rule packs at synth as CDK validation plugins (cdk-nag 3.x):
 * an unacknowledged finding fails `cdk synth` and is listed in cdk.out/policy-validation-report.json.
 * `writeSuppressionsToCloudFormation` copies every acknowledgement into the template's Metadata, so an
 * auditor reading a template sees each exception with its reason.
 */
export function applyNagPacks(app: App): void {
  Validations.of(app).addPlugins(
    new AwsSolutionsChecks(app, { writeSuppressionsToCloudFormation: true }),
    new PCIDSS321Checks(app, { writeSuppressionsToCloudFormation: true }),
  );
}

/**
 * Acknowledges cdk-nag findings on one construct (and its children), each finding id listed exactly
 * (`Rule[Finding]` for per-finding rules such as IAM5), with a one-line reason.
 */
export function acknowledge(scope: IConstruct, ids: readonly string[], reason: string): void {
  for (const id of ids) Validations.of(scope).acknowledge({ id, reason });
}
