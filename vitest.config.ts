import { defineConfig } from 'vitest/config';

// .ci/run asks for vitest's JSON report to print its "N passed, N failed" line.
const jsonReport = process.env['NASHA_TEST_REPORT'];

export const config = defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    testTimeout: 20_000,
    hookTimeout: 30_000,
    pool: 'forks',
    ...(jsonReport ? { reporters: ['default', 'json'], outputFile: { json: jsonReport } } : {}),
  },
});

// biome-ignore lint/style/noDefaultExport: vitest loads its config from the default export.
export default config;
