import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { App } from 'aws-cdk-lib';
import { LedgerConfigError } from '../config.js';
import { buildLedgerApp } from '../ledger-app.js';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const app = new App();
try {
  buildLedgerApp(app, { projectRoot, defaultAccount: process.env.CDK_DEFAULT_ACCOUNT });
} catch (error) {
  // Bad context is an operator's typo, not a crash: print the list of bad keys, no stack trace.
  if (!(error instanceof LedgerConfigError)) throw error;
  console.error(error.message);
  process.exit(1);
}
app.synth();
