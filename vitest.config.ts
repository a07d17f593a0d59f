import { defineConfig } from 'vitest/config';

/**
 * One run: unit, integration (real emulators), infra. The global setup starts DynamoDB Local and
 * kinesis-mock once, in memory, on free ports (or uses LocalStack when AWS_ENDPOINT_URL is set);
 * integration files isolate themselves with their own table and stream (test/helpers/emulators.ts).
 */
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/helpers/global-setup.ts'],
    env: { POWERTOOLS_METRICS_DISABLED: 'true', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    pool: 'forks',
    // 2 cores: the emulators need CPU too.
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    teardownTimeout: 30_000,
  },
});
