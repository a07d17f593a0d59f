import type { TestProject } from 'vitest/node';
import { type RunningEmulators, startEmulators } from '../../tools/local/emulators.js';
import { JavaMissingError } from '../../tools/local/errors.js';

/** What integration tests reach: the endpoints, or why there are none. */
export type ProvidedEmulators =
  | { readonly kind: 'emulators'; readonly dynamodbEndpoint: string; readonly kinesisEndpoint: string }
  | { readonly kind: 'localstack'; readonly dynamodbEndpoint: string; readonly kinesisEndpoint: string }
  | { readonly kind: 'unavailable'; readonly reason: string };

declare module 'vitest' {
  export interface ProvidedContext {
    emulators: ProvidedEmulators;
  }
}

/**
 * Starts the emulators once for the whole run (in memory, free ports) and hands their endpoints to
 * every test file through `provide`/`inject`, which reaches forked workers too. With
 * AWS_ENDPOINT_URL set (LocalStack), starts nothing. Without Java, unit tests still run and
 * integration tests fail with the install hint.
 */
export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  const localstack = process.env.AWS_ENDPOINT_URL;
  if (localstack !== undefined && localstack !== '') {
    project.provide('emulators', {
      kind: 'localstack',
      dynamodbEndpoint: localstack,
      kinesisEndpoint: localstack,
    });
    return undefined;
  }
  let emulators: RunningEmulators;
  try {
    emulators = await startEmulators({ log: (line) => console.log(`[emulators] ${line}`) });
  } catch (error) {
    if (!(error instanceof JavaMissingError)) throw error;
    console.warn(`[emulators] not started: ${error.message}`);
    project.provide('emulators', { kind: 'unavailable', reason: error.message });
    return undefined;
  }
  console.log(`[emulators] started in ${(emulators.startupMs.total / 1000).toFixed(1)} s`);
  project.provide('emulators', {
    kind: 'emulators',
    dynamodbEndpoint: emulators.dynamodbEndpoint,
    kinesisEndpoint: emulators.kinesisEndpoint,
  });
  return () => emulators.stop();
}
