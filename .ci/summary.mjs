// Prints "N passed, N failed" from vitest's JSON report (the last line of .ci/run).
// A test file that failed before running any test (an import error) counts as one failure.
// Exit code: 0 when nothing failed and at least one test ran, 1 otherwise.
import { readFileSync } from 'node:fs';

const path = process.argv[2] ?? '.vitest-results.json';
let passed = 0;
let failed = 0;
let ran = false;
try {
  const report = JSON.parse(readFileSync(path, 'utf8'));
  passed = Number(report.numPassedTests ?? 0);
  failed = Number(report.numFailedTests ?? 0);
  const results = Array.isArray(report.testResults) ? report.testResults : [];
  const brokenFiles = results.filter(
    (file) => file.status === 'failed' && !(file.assertionResults ?? []).some((a) => a.status === 'failed'),
  );
  failed += brokenFiles.length;
  ran = true;
} catch (error) {
  console.error(`no readable test results at ${path}: ${error instanceof Error ? error.message : error}`);
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(ran && failed === 0 && passed > 0 ? 0 : 1);
