import { createServer } from 'node:net';
import { PortInUseError } from './errors.js';

/**
 * Whether nothing listens on `port`. Binds the unspecified address (dual-stack), which conflicts
 * with a listener on any interface, so a `true` here means the emulator's own bind will succeed
 * (barring a race with another process).
 */
export function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** A port the OS considers free right now (bind port 0, read it, release it). */
export function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ port: 0, exclusive: true }, () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error('could not read the port the OS assigned'));
        return;
      }
      server.close(() => resolve(address.port));
    });
  });
}

/** `preferred` when it is free, else any free port; `fallback` false makes a taken port an error. */
export async function choosePort(
  preferred: number | undefined,
  fallback: boolean,
): Promise<{ port: number; fellBack: boolean }> {
  if (preferred === undefined) return { port: await findFreePort(), fellBack: false };
  if (await isPortFree(preferred)) return { port: preferred, fellBack: false };
  if (!fallback) throw new PortInUseError(preferred);
  return { port: await findFreePort(), fellBack: true };
}
