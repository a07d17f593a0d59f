import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';

/** How long an emulator gets to exit after SIGTERM before SIGKILL. */
export const STOP_GRACE_MS = 3_000;
/** How long to wait for a process to disappear after SIGKILL. */
const KILL_WAIT_MS = 2_000;
const EXIT_POLL_MS = 50;
/** Lines of each child's output kept to explain a failed start. */
const OUTPUT_TAIL_LINES_MAX = 40;

/** Whether `pid` names a live process (a zombie counts as gone). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    // /proc/<pid>/stat is "pid (comm) S ...": the state follows the last ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true; // no procfs (macOS): trust kill(0)
  }
}

/** The command line of `pid`, arguments joined by spaces; undefined when unreadable. */
export function readCmdline(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    return undefined;
  }
}

/** Resolves true once `pid` is gone, false if it is still alive after `timeoutMs`. */
export async function waitForPidExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return true;
    await sleep(EXIT_POLL_MS);
  }
  return !isAlive(pid);
}

/** SIGTERM, then SIGKILL after `graceMs`, for a process we did not spawn (a leftover). */
export async function terminatePid(pid: number, graceMs = STOP_GRACE_MS): Promise<void> {
  signal(pid, 'SIGTERM');
  if (await waitForPidExit(pid, graceMs)) return;
  signal(pid, 'SIGKILL');
  await waitForPidExit(pid, KILL_WAIT_MS);
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // already gone
  }
}

export function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/** Resolves when the child exits, or after `timeoutMs` with false. */
export function waitForChildExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (hasExited(child)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(hasExited(child)), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/** SIGTERM, then SIGKILL after `graceMs`. Resolves once the child has exited. */
export async function stopChild(child: ChildProcess, graceMs = STOP_GRACE_MS): Promise<void> {
  if (hasExited(child)) return;
  child.kill('SIGTERM');
  if (await waitForChildExit(child, graceMs)) return;
  child.kill('SIGKILL');
  await waitForChildExit(child, KILL_WAIT_MS);
}

/** The last lines a child printed, kept to explain a failed start. */
export interface OutputTail {
  lines(): string[];
}

/**
 * Reads a child's stdout and stderr line by line: keeps a short tail of both, and passes stderr
 * lines (the emulators print errors there and stay quiet otherwise) to `log` with a prefix.
 */
export function watchOutput(child: ChildProcess, prefix: string, log: (line: string) => void): OutputTail {
  const tail: string[] = [];
  const keep = (line: string): void => {
    tail.push(line);
    if (tail.length > OUTPUT_TAIL_LINES_MAX) tail.shift();
  };
  if (child.stdout) createInterface({ input: child.stdout }).on('line', keep);
  if (child.stderr) {
    createInterface({ input: child.stderr }).on('line', (line) => {
      keep(line);
      if (line.trim() !== '') log(`${prefix} ${line}`);
    });
  }
  return { lines: () => [...tail] };
}

/**
 * The reaper: a tiny node process holding a pipe from us. When we die without cleaning up (SIGKILL
 * of this process alone, a crash), the pipe closes and it terminates the emulators. It ignores
 * SIGINT so that a Ctrl-C, which reaches the whole foreground process group, leaves the orderly
 * shutdown to us. A SIGKILL of the whole group takes it down too; the lock file covers that case.
 */
const REAPER_SCRIPT = `
const pids = process.argv.slice(1).map(Number);
process.on('SIGINT', () => {});
const reap = () => {
  for (const pid of pids) { try { process.kill(pid, 'SIGTERM'); } catch {} }
  setTimeout(() => {
    for (const pid of pids) { try { process.kill(pid, 'SIGKILL'); } catch {} }
    process.exit(0);
  }, ${STOP_GRACE_MS});
};
process.stdin.on('end', reap);
process.stdin.on('error', reap);
process.stdin.resume();
`;

export function startReaper(pids: readonly number[]): ChildProcess {
  const reaper = spawn(process.execPath, ['-e', REAPER_SCRIPT, ...pids.map(String)], {
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  reaper.on('error', () => {}); // best effort: the lock file still covers a crash
  reaper.stdin?.on('error', () => {});
  // Neither the process nor its pipe may keep our event loop alive.
  reaper.unref();
  (reaper.stdin as (NodeJS.WritableStream & { unref?: () => void }) | null)?.unref?.();
  return reaper;
}

/** Live pids of process group `pgid` (from /proc; zombies excluded). */
export function groupPids(pgid: number): number[] {
  const members: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const [state, , group] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(group) === pgid && state !== 'Z') members.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return members;
}
