/**
 * Test tooling: runs the emulators in a process of its own (`node --import tsx
 * test/helpers/run-emulators.ts <dataDir>`), prints one JSON line `{"ready":...,"pids":...}` once
 * they answer, then waits to be stopped or killed. Lets crash tests SIGKILL an owner process.
 */
import { startEmulators } from '../../tools/local/emulators.js';

const dataDir = process.argv[2];
if (dataDir === undefined) throw new Error('usage: run-emulators.ts <dataDir>');
const emulators = await startEmulators({ dataDir });
console.log(
  JSON.stringify({
    ready: true,
    pids: emulators.pids,
    dynamodbEndpoint: emulators.dynamodbEndpoint,
    kinesisEndpoint: emulators.kinesisEndpoint,
  }),
);
const stop = (): void => {
  emulators.stop().then(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
setInterval(() => {}, 60_000);
