import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { DataDirInUseError } from './errors.js';
import { isAlive, readCmdline, terminatePid } from './processes.js';

const LOCK_FILE_NAME = 'emulators.lock.json';
const CMDLINE_LENGTH_MAX = 8_192;
const CHILDREN_MAX = 8;

/** One emulator we started: `marker` must appear in its command line before we may kill it. */
export const LockedChild = z
  .object({
    name: z.string().max(64),
    pid: z.number().int().positive(),
    port: z.number().int().min(1).max(65_535),
    marker: z.string().min(1).max(256),
  })
  .strict();
export type LockedChild = z.infer<typeof LockedChild>;

/** `<dataDir>/emulators.lock.json`: who runs the emulators on this data dir, and their pids. */
export const LockFile = z
  .object({
    ownerPid: z.number().int().positive(),
    ownerCmdline: z.string().max(CMDLINE_LENGTH_MAX),
    startedAt: z.string().max(64),
    children: z.array(LockedChild).max(CHILDREN_MAX),
  })
  .strict();
export type LockFile = z.infer<typeof LockFile>;

/** Data dirs this process runs emulators on: a second start on one of them is refused. */
const dataDirsInUse = new Set<string>();

/** Claims `dataDir` for this process (after clearLeftovers) and writes the lock file. */
export function claimDataDir(dataDir: string, lock: LockFile): void {
  dataDirsInUse.add(dataDir);
  writeLockFile(dataDir, lock);
}

/** Removes the lock file and releases the claim. */
export function releaseDataDir(dataDir: string): void {
  removeLockFile(dataDir);
  dataDirsInUse.delete(dataDir);
}

export function lockFilePath(dataDir: string): string {
  return join(dataDir, LOCK_FILE_NAME);
}

/** The lock file's contents; undefined when absent or unreadable (a crash mid-write). */
export function readLockFile(dataDir: string): LockFile | undefined {
  let text: string;
  try {
    text = readFileSync(lockFilePath(dataDir), 'utf8');
  } catch {
    return undefined;
  }
  try {
    const parsed = LockFile.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** Written to a temporary file then renamed, so a reader never sees half a lock file. */
export function writeLockFile(dataDir: string, lock: LockFile): void {
  const path = lockFilePath(dataDir);
  writeFileSync(`${path}.tmp`, `${JSON.stringify(lock, null, 2)}\n`);
  renameSync(`${path}.tmp`, path);
}

export function removeLockFile(dataDir: string): void {
  rmSync(lockFilePath(dataDir), { force: true });
  rmSync(`${lockFilePath(dataDir)}.tmp`, { force: true });
}

/** This process, described for the lock file. */
export function currentOwner(): Pick<LockFile, 'ownerPid' | 'ownerCmdline'> {
  const cmdline = readCmdline(process.pid) ?? process.argv.join(' ');
  return { ownerPid: process.pid, ownerCmdline: cmdline.slice(0, CMDLINE_LENGTH_MAX) };
}

/**
 * Makes the data dir ours after an unclean end of a previous run: refuses if the previous owner is
 * still alive, otherwise stops the emulators it left behind (only processes whose command line
 * still carries the emulator's marker: a pid may have been reused) and removes the lock file.
 */
export async function clearLeftovers(dataDir: string, log: (line: string) => void): Promise<void> {
  if (dataDirsInUse.has(dataDir)) throw new DataDirInUseError(dataDir, process.pid);
  const lock = readLockFile(dataDir);
  if (lock === undefined) {
    removeLockFile(dataDir);
    return;
  }
  // Our own pid in the lock is a previous incarnation (pids repeat across container restarts).
  const ownerAlive =
    lock.ownerPid !== process.pid &&
    isAlive(lock.ownerPid) &&
    readCmdline(lock.ownerPid) === lock.ownerCmdline;
  if (ownerAlive) throw new DataDirInUseError(dataDir, lock.ownerPid);
  for (const child of lock.children) {
    if (!isAlive(child.pid) || !(readCmdline(child.pid) ?? '').includes(child.marker)) continue;
    log(`stopping ${child.name} (pid ${child.pid}, port ${child.port}) left running by a previous start`);
    await terminatePid(child.pid);
  }
  removeLockFile(dataDir);
}
