// Cold init of one bundle in a fresh process: the time from process start (performance.timeOrigin)
// to the module's `handler` export being available, the import alone, and the CPU the process used
// by then (less sensitive than wall time to other load on the machine). One JSON line on stdout.
// Plain JS on purpose: no loader (tsx) may add to the process start being measured.
import { pathToFileURL } from 'node:url';

const bundle = process.argv[2];
if (bundle === undefined) throw new Error('usage: init-runner.mjs <bundle.mjs>');
const importStartMs = performance.now();
const module = await import(pathToFileURL(bundle).href);
const exportedMs = performance.now();
const cpu = process.cpuUsage();
if (typeof module.handler !== 'function') throw new Error(`${bundle} exports no handler function`);
process.stdout.write(
  `${JSON.stringify({
    sinceProcessStartMs: exportedMs,
    importMs: exportedMs - importStartMs,
    cpuMs: (cpu.user + cpu.system) / 1000,
  })}\n`,
);
