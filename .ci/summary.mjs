// Prints "N passed, N failed" from vitest's JSON report; a missing report (type-check or lint
// failed before vitest ran) counts as one failure.
import { existsSync, readFileSync } from 'node:fs';

const [reportPath, statusText] = process.argv.slice(2);
const status = Number(statusText);
if (!reportPath || !existsSync(reportPath)) {
  process.stdout.write('npm test failed before vitest reported (type-check or lint)\n0 passed, 1 failed\n');
  process.exit(1);
}
const report = JSON.parse(readFileSync(reportPath, 'utf8'));
const passed = report.numPassedTests ?? 0;
// A file that fails to load has no failed test but a failed suite: count it once.
const failed = report.numFailedTests || report.numFailedTestSuites || 0;
const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
const failedCount = failed === 0 && status !== 0 ? 1 : failed;
process.stdout.write(`${passed} passed, ${failedCount} failed${skipped > 0 ? `, ${skipped} skipped` : ''}\n`);
process.exit(failedCount === 0 && passed > 0 ? 0 : 1);
