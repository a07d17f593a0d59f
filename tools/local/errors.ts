/** Base error of the local runner (emulators, provisioning, stack, poller). */
export class LocalStackError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'LocalStackError';
  }
}

export class PortInUseError extends LocalStackError {
  constructor(
    readonly port: number,
    options?: ErrorOptions,
  ) {
    super(`port ${port} is already in use: stop whatever listens there or choose another port`, options);
    this.name = 'PortInUseError';
  }
}

export const JAVA_MISSING_MESSAGE =
  'Java 17+ is required for DynamoDB Local: install a JRE, e.g. apt-get install -y openjdk-17-jre-headless';

export class JavaMissingError extends LocalStackError {
  constructor(detail: string, options?: ErrorOptions) {
    super(`${JAVA_MISSING_MESSAGE} (${detail})`, options);
    this.name = 'JavaMissingError';
  }
}

/** An emulator exited or never answered during start-up; the message carries its last output. */
export class EmulatorStartError extends LocalStackError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'EmulatorStartError';
  }
}

/** Another live local stack owns the data directory; two writers would corrupt it. */
export class DataDirInUseError extends LocalStackError {
  constructor(
    readonly dataDir: string,
    readonly ownerPid: number,
  ) {
    super(`data dir ${dataDir} is in use by a running local stack (pid ${ownerPid}): stop it first`);
    this.name = 'DataDirInUseError';
  }
}
