import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { groupPids } from '../../tools/local/processes.js';

/** Pids whose parent is `pid` (from /proc). */
export function childPids(pid: number): number[] {
  const children: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (parent === pid) children.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return children;
}

/**
 * Spawns `command` in a process group of its own (so a test can SIGKILL the whole group, as a
 * terminal would) and resolves with the first stdout line `ready` accepts. Rejects when the
 * process exits first or after `timeoutMs`; all output is kept for the error message.
 */
export function spawnUntil<T>(
  command: string,
  args: readonly string[],
  ready: (line: string) => T | undefined,
  timeoutMs: number,
): Promise<{ child: ChildProcess; value: T; output: string[] }> {
  const child = spawn(command, [...args], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`not ready within ${timeoutMs} ms:\n${output.join('\n')}`)),
      timeoutMs,
    );
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`exited (${code ?? signal}) before ready:\n${output.join('\n')}`));
    });
    if (child.stderr) createInterface({ input: child.stderr }).on('line', (line) => output.push(line));
    if (!child.stdout) return;
    createInterface({ input: child.stdout }).on('line', (line) => {
      output.push(line);
      const value = ready(line);
      if (value === undefined) return;
      clearTimeout(timer);
      resolve({ child, value, output });
    });
  });
}

/** Resolves with the exit code (or signal name) once the child has exited, or undefined after `timeoutMs`. */
export function exitOf(child: ChildProcess, timeoutMs: number): Promise<number | string | undefined> {
  if (child.exitCode !== null || child.signalCode !== null)
    return Promise.resolve(child.exitCode ?? child.signalCode ?? undefined);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(undefined), timeoutMs);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve(code ?? signal ?? undefined);
    });
  });
}

export { groupPids };
