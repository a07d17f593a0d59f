import { copyFileSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** The file kinesis-mock rewrites with every stream and record (PERSIST_FILE_NAME). */
export const KINESIS_PERSIST_FILE_NAME = 'kinesis-data.json';
/** The last copy of the persist file that parsed, restored when the file itself is unreadable. */
export const KINESIS_LAST_GOOD_FILE_NAME = 'kinesis-data.last-good.json';
/** How often the persist file is checked for a new readable version to keep. */
export const LAST_GOOD_COPY_INTERVAL_MS = 1_000;
const FLUSH_POLL_MS = 25;
/** A rewrite is complete once the file has not changed for this long. */
const FLUSH_SETTLE_MS = 150;
/** Rewrites to observe: the second one certainly began after we started waiting. */
const FLUSH_REWRITES = 2;

/**
 * kinesis-mock rewrites its persist file in place, so a SIGKILL can leave half a file, and it then
 * refuses to start (ParsingFailure). Moves such a file aside and, when a last-good copy exists
 * (see keepLastGoodCopies), puts that copy in its place, with a log line saying what was lost.
 * Returns the new path of the moved file, if any.
 */
export function quarantineUnreadablePersistFile(
  dir: string,
  log: (line: string) => void,
): string | undefined {
  const path = join(dir, KINESIS_PERSIST_FILE_NAME);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return undefined; // no file yet: a fresh data dir
  }
  if (isPersistedState(text)) return undefined;
  const aside = `${path}.unreadable-${new Date().toISOString().replace(/[:.]/g, '-')}`;
  renameSync(path, aside);
  const lastGood = join(dir, KINESIS_LAST_GOOD_FILE_NAME);
  const restored = readableAt(lastGood);
  if (restored !== undefined) {
    // Copy, then rename: a kill in between leaves no half-restored file.
    copyFileSync(lastGood, `${path}.restoring`);
    renameSync(`${path}.restoring`, path);
    log(
      `[kinesis] ${path} was unreadable (half-written when a previous run was killed?): moved it to ${aside} ` +
        `and restored the last good copy (${restored.mtime}); records put after that copy are lost ` +
        '(the ledger table is intact; the reconciler re-drives accepted transfers)',
    );
  } else {
    log(
      `[kinesis] ${path} was unreadable (half-written when a previous run was killed?): moved it to ${aside}; ` +
        'no last good copy: the streams start empty (the ledger table is intact; the reconciler re-drives accepted transfers)',
    );
  }
  return aside;
}

/** The file's mtime when it exists and parses as kinesis-mock state. */
function readableAt(path: string): { mtime: string } | undefined {
  try {
    const mtime = statSync(path).mtime.toISOString();
    return isPersistedState(readFileSync(path, 'utf8')) ? { mtime } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Copies the persist file to KINESIS_LAST_GOOD_FILE_NAME when it changed since the last copy and
 * parses (a read in the middle of kinesis-mock's rewrite does not): written to a temporary file,
 * then renamed, so the last-good copy is always whole. True when a copy was made.
 */
export function copyIfReadable(dir: string, lastCopied: { state?: string | undefined } = {}): boolean {
  const path = join(dir, KINESIS_PERSIST_FILE_NAME);
  const before = fileState(path);
  if (before === undefined || before === lastCopied.state) return false;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return false;
  }
  // Changed while we read it: a rewrite in progress; try again next time.
  if (fileState(path) !== before || !isPersistedState(text)) return false;
  const target = join(dir, KINESIS_LAST_GOOD_FILE_NAME);
  writeFileSync(`${target}.tmp`, text);
  renameSync(`${target}.tmp`, target);
  lastCopied.state = before;
  return true;
}

/** Keeps a last-good copy of the persist file while kinesis-mock runs; returns the stop function. */
export function keepLastGoodCopies(dir: string, intervalMs = LAST_GOOD_COPY_INTERVAL_MS): () => void {
  const lastCopied: { state?: string | undefined } = {};
  const timer = setInterval(() => {
    try {
      copyIfReadable(dir, lastCopied);
    } catch {
      // a full disk or a removed dir: keep the previous copy, try again next time
    }
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

function isPersistedState(text: string): boolean {
  try {
    const value: unknown = JSON.parse(text);
    return (
      typeof value === 'object' && value !== null && 'streams' in value && typeof value.streams === 'object'
    );
  } catch {
    return false;
  }
}

/** mtime and size together: a rewrite in progress changes one or the other. */
function fileState(path: string): string | undefined {
  try {
    const stat = statSync(path);
    return `${stat.mtimeMs}:${stat.size}`;
  } catch {
    return undefined;
  }
}

/**
 * Resolves once kinesis-mock has rewritten `path` twice (so one whole write began after the call)
 * and the file has then stayed unchanged for a moment (that write is complete), or after about two
 * and a half intervals. True when such a flush was observed. Right after it, the next periodic
 * write is most of an interval away, so stopping the process then cannot cut a write in half.
 */
export async function waitForPersistFlush(path: string, intervalMs: number): Promise<boolean> {
  const deadline = Date.now() + intervalMs * (FLUSH_REWRITES + 0.5) + FLUSH_SETTLE_MS;
  let last = fileState(path);
  let changedAt: number | undefined;
  let rewrites = 0;
  while (Date.now() < deadline) {
    await sleep(FLUSH_POLL_MS);
    const now = fileState(path);
    if (now !== last) {
      // One rewrite shows several states (truncated, then partly written): count it once settled.
      last = now;
      changedAt = Date.now();
    } else if (changedAt !== undefined && Date.now() - changedAt >= FLUSH_SETTLE_MS) {
      rewrites += 1;
      changedAt = undefined;
      if (rewrites >= FLUSH_REWRITES) return true;
    }
  }
  return false;
}
