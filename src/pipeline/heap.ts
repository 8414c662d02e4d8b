/**
 * How far V8 lets the heap grow past what is alive before it collects (docs/performance.md,
 * "Memory").
 *
 * A scan keeps little alive (about 50 MB of V8 heap after a full collection, 76 rules, enrichment
 * on) but allocates fast: every event is a parsed JSON object, its caches, ECS view and join keys,
 * and whatever outlives two young-generation collections (events in the reorder window, a batch's
 * alerts until its commit) is promoted to the old generation. After each full collection V8 sets
 * the next one's trigger at the live size times a growing factor that, on a machine with memory
 * to spare and a program that allocates fast, is its maximum of 4: the old generation is left to
 * grow to about four times what is alive before it is collected again. That garbage, not live
 * objects, was most of a scan's RSS (heap 250 MB for 50–100 MB alive).
 *
 * `--heap-growing-percent=P` (a V8 flag) replaces that factor by 1 + P/100. It is not a limit:
 * the heap still grows as far as the live data needs (nothing can run out of memory because of
 * it); V8 only collects sooner. V8 reads the flag each time it recomputes its limits, so setting
 * it at run time (`v8.setFlagsFromString`) takes effect from the next collection on, which was
 * measured (same alerts, peak RSS and time in docs/performance.md).
 *
 * A value given by the user (`node --heap-growing-percent=…` or in NODE_OPTIONS) is kept;
 * `--heap-growing-percent=0` restores V8's own factor. Node warns that flags changed after start-up
 * may misbehave; this one is a number V8 reads when it next sizes the heap (no structure depends
 * on it), and the whole test suite, the conformance run and the benchmarks run with it.
 */
import { setFlagsFromString } from 'node:v8';

/** The growing factor a scan runs with: 1.5 × the live heap. */
export const HEAP_GROWING_PERCENT = 50;

const FLAG = '--heap-growing-percent';
let applied = false;

/** Whether the process was started with its own `--heap-growing-percent`. */
export function userSetHeapGrowth(execArgv: readonly string[] = process.execArgv, nodeOptions = process.env['NODE_OPTIONS'] ?? ''): boolean {
  const given = (a: string): boolean => a === FLAG || a.startsWith(`${FLAG}=`) || a === '--heap_growing_percent' || a.startsWith('--heap_growing_percent=');
  return execArgv.some(given) || nodeOptions.split(/\s+/).some(given);
}

/**
 * Sets the growing factor once per process (scans and live runs call it before their first event),
 * unless the user chose one. Returns the percent in force when oktopus set it, else undefined.
 */
export function limitHeapGrowth(): number | undefined {
  if (applied) return HEAP_GROWING_PERCENT;
  if (userSetHeapGrowth()) return undefined;
  setFlagsFromString(`${FLAG}=${HEAP_GROWING_PERCENT}`);
  applied = true;
  return HEAP_GROWING_PERCENT;
}
