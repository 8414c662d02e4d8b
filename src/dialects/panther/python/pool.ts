/**
 * A pool of python3 worker processes (worker.py beside this file, in the source tree) running
 * Panther Python rule bodies.
 *
 *  - One worker per CPU at most (and never more than there are rule modules). A module always
 *    runs in the same worker (its slot), so a body's in-process state (the caching stand-in)
 *    sees that rule's events in order.
 *  - Per batch, every worker gets the batch's events once (one JSON line), then one `eval`
 *    request per module of its slot; requests carry a sequence number and the answer must
 *    carry the same one. The workers of the pool run in parallel.
 *  - Containment: when a worker exits, does not answer within the timeout, or answers with
 *    something that is not the expected JSON line, the request's module gets an error result
 *    for that batch (with the reason), the worker is killed and a new one started (it gets
 *    the batch's events again), and the slot goes on with its next module.
 *  - Idle workers do not keep Node running (their handles are unref'd; a pending request
 *    holds a timer, which does).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Socket } from 'node:net';

export interface PoolOptions {
  /** The Python interpreter (default python3). */
  python: string;
  /** Folders searched for the helper modules rules import (the user's global_helpers), first. */
  paths: string[];
  /** Per (module, batch) request; a worker silent for longer is killed and restarted. */
  timeoutMs: number;
  /** At most this many workers (default: the number of CPUs). */
  workers: number;
}

export interface EvalTask {
  module: string;
  /** Positions in the batch to evaluate (null: all). */
  idx: number[] | null;
  mocks?: { objectName: string; returnValue: unknown }[];
}

/** One event's result: 0 no match, {e} rule() raised, {f} a match with the aux functions' results. */
export type EventResult = 0 | { e: string } | { f: Record<string, { v?: unknown; e?: string }> };

export type TaskResult = { ok: true; fns: string[]; results: EventResult[] } | { ok: false; reason: string; batchFailure: boolean };

/** The folder holding worker.py (and the stand-in helpers): beside this file, else in the source tree. */
export function pythonDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  if (existsSync(join(here, 'worker.py'))) return here;
  for (let dir = here; ; dir = dirname(dir)) {
    const candidate = join(dir, 'src', 'dialects', 'panther', 'python');
    if (existsSync(join(candidate, 'worker.py'))) return candidate;
    if (dirname(dir) === dir) break;
  }
  throw new Error('cannot find the Python worker (src/dialects/panther/python/worker.py)');
}

function workerArgs(paths: string[], once: boolean): string[] {
  const dir = pythonDir();
  const config = JSON.stringify({ paths, standins: join(dir, 'standins') });
  return ['-u', join(dir, 'worker.py'), config, ...(once ? ['--once'] : [])];
}

/** Environment of a worker: no bytecode files written into the user's checkout; set order (and so titles built from sets) the same in every run. */
function workerEnv(): NodeJS.ProcessEnv {
  return { ...process.env, PYTHONDONTWRITEBYTECODE: '1', PYTHONIOENCODING: 'utf-8', PYTHONHASHSEED: '0', PYTHONUNBUFFERED: '1' };
}

const STDERR_LINES = 20;

class WorkerError extends Error {
  constructor(
    message: string,
    readonly kind: 'crash' | 'timeout' | 'garbage',
  ) {
    super(message);
  }
}

interface Pending {
  seq: number;
  resolve: (v: Record<string, unknown>) => void;
  reject: (e: WorkerError) => void;
  timer: NodeJS.Timeout;
}

/** One worker process. */
class Worker {
  readonly child: ChildProcess;
  private buffer = '';
  private pending: Pending | undefined;
  private exited: string | undefined;
  readonly stderr: string[] = [];
  /** The batch whose events this process holds. */
  batch = -1;

  constructor(opts: PoolOptions) {
    this.child = spawn(opts.python, workerArgs(opts.paths, false), { stdio: ['pipe', 'pipe', 'pipe'], env: workerEnv() });
    this.child.stdout!.setEncoding('utf8');
    this.child.stdout!.on('data', (chunk: string) => this.onData(chunk));
    this.child.stderr!.setEncoding('utf8');
    this.child.stderr!.on('data', (chunk: string) => {
      for (const line of chunk.split('\n')) {
        if (line.trim() === '') continue;
        this.stderr.push(line.length > 300 ? line.slice(0, 300) + '…' : line);
        if (this.stderr.length > STDERR_LINES) this.stderr.shift();
      }
    });
    this.child.stdin!.on('error', () => undefined); // EPIPE after a crash: reported by 'exit'
    this.child.on('error', (e) => this.fail(`cannot run ${opts.python}: ${e.message}`, 'crash'));
    this.child.on('exit', (code, signal) => {
      const tail = this.stderr.filter((l) => !/^\s*(Traceback|File ")/.test(l)).slice(-1)[0];
      this.fail(`the python worker exited (${signal ? `signal ${signal}` : `code ${code}`})${tail ? `: ${tail.trim()}` : ''}`, 'crash');
    });
    this.idle();
  }

  get alive(): boolean {
    return this.exited === undefined;
  }

  /** Let Node exit while this worker waits for work. */
  private idle(): void {
    this.child.unref();
    for (const s of [this.child.stdin, this.child.stdout, this.child.stderr]) (s as unknown as Socket | null)?.unref?.();
  }

  private fail(reason: string, kind: WorkerError['kind']): void {
    if (this.exited === undefined) this.exited = reason;
    const p = this.pending;
    if (p) {
      this.pending = undefined;
      clearTimeout(p.timer);
      p.reject(new WorkerError(reason, kind));
    }
  }

  private onData(chunk: string): void {
    this.buffer += chunk;
    let nl: number;
    while ((nl = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, nl);
      this.buffer = this.buffer.slice(nl + 1);
      if (line.trim() === '') continue;
      const p = this.pending;
      let msg: Record<string, unknown> | undefined;
      try {
        const v = JSON.parse(line) as unknown;
        if (v && typeof v === 'object' && !Array.isArray(v)) msg = v as Record<string, unknown>;
      } catch {
        /* below */
      }
      const expected = msg && p && (msg['seq'] === p.seq || (msg['seq'] === null && typeof msg['error'] === 'string'));
      if (!msg || !p || !expected) {
        const shown = line.length > 80 ? line.slice(0, 80) + '…' : line;
        this.kill();
        this.fail(`unreadable answer from the python worker: ${JSON.stringify(shown)}`, 'garbage');
        return;
      }
      this.pending = undefined;
      clearTimeout(p.timer);
      p.resolve(msg);
    }
  }

  send(line: string): void {
    if (this.alive) this.child.stdin!.write(line.endsWith('\n') ? line : line + '\n');
  }

  request(msg: Record<string, unknown> & { seq: number }, timeoutMs: number): Promise<Record<string, unknown>> {
    if (!this.alive) return Promise.reject(new WorkerError(this.exited!, 'crash'));
    this.stderr.length = 0; // a crash is explained by what this request printed
    return new Promise((resolve, reject) => {
      const ms = Number.isFinite(timeoutMs) && timeoutMs > 0 ? timeoutMs : 2 ** 31 - 1;
      const timer = setTimeout(() => {
        this.kill();
        this.fail(`no answer within ${ms >= 1000 ? `${ms / 1000} s` : `${ms} ms`} (the rule hangs or is too slow for the --python-timeout)`, 'timeout');
      }, ms);
      this.pending = { seq: msg.seq, resolve, reject, timer };
      this.send(JSON.stringify(msg));
    });
  }

  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }

  close(): void {
    try {
      this.child.stdin!.end();
    } catch {
      /* gone already */
    }
    setTimeout(() => this.kill(), 2000).unref();
  }
}

export class PythonPool {
  private readonly slots: (Worker | undefined)[] = [];
  private readonly slotOf = new Map<string, number>();
  private seq = 0;
  private batchNo = 0;
  /** Workers started (the first one per slot and every restart). */
  started = 0;

  constructor(readonly opts: PoolOptions) {}

  private slotFor(module: string): number {
    let s = this.slotOf.get(module);
    if (s === undefined) {
      const max = Math.max(1, Math.min(this.opts.workers, availableParallelism()));
      s = this.slotOf.size % max;
      this.slotOf.set(module, s);
    }
    return s;
  }

  private worker(slot: number): Worker {
    let w = this.slots[slot];
    if (!w || !w.alive) {
      w = new Worker(this.opts);
      this.started++;
      this.slots[slot] = w;
    }
    return w;
  }

  /** Evaluate the tasks on a batch of events (`eventsLine`: the batch's `events` message). */
  async evaluate(eventsLine: string, eventCount: number, tasks: EvalTask[]): Promise<TaskResult[]> {
    const batch = ++this.batchNo;
    const results: TaskResult[] = new Array(tasks.length);
    const bySlot = new Map<number, number[]>();
    tasks.forEach((t, i) => {
      const s = this.slotFor(t.module);
      bySlot.set(s, [...(bySlot.get(s) ?? []), i]);
    });
    await Promise.all(
      [...bySlot].map(async ([slot, list]) => {
        for (const i of list) {
          const task = tasks[i]!;
          const w = this.worker(slot);
          if (w.batch !== batch) {
            w.send(eventsLine);
            w.batch = batch;
          }
          const seq = ++this.seq;
          try {
            const answer = await w.request({ op: 'eval', seq, module: task.module, idx: task.idx, mocks: task.mocks ?? null }, this.opts.timeoutMs);
            if (typeof answer['error'] === 'string') {
              results[i] = { ok: false, reason: answer['error'], batchFailure: false };
            } else if (Array.isArray(answer['r']) && answer['r'].length === (task.idx ? task.idx.length : eventCount)) {
              results[i] = { ok: true, fns: Array.isArray(answer['fns']) ? (answer['fns'] as string[]) : [], results: answer['r'] as EventResult[] };
            } else {
              w.kill();
              results[i] = { ok: false, reason: 'unreadable answer from the python worker (wrong number of results)', batchFailure: true };
            }
          } catch (e) {
            results[i] = { ok: false, reason: e instanceof Error ? e.message : String(e), batchFailure: true };
          }
        }
      }),
    );
    return results;
  }

  close(): void {
    for (const w of this.slots) w?.close();
    this.slots.length = 0;
  }
}

/**
 * Synchronous evaluation of one batch in a fresh worker (`--once`), for events that reach the
 * engine without having been prepared (an Engine used directly, events reloaded from a saved
 * reorder window). Slow (a process per call): the pipeline prepares events in batches.
 */
export function evaluateOnce(opts: PoolOptions, eventsLine: string, task: EvalTask): TaskResult {
  const input = `${eventsLine}\n${JSON.stringify({ op: 'eval', seq: 1, module: task.module, idx: task.idx, mocks: task.mocks ?? null })}\n`;
  const r = spawnSync(opts.python, workerArgs(opts.paths, true), {
    input,
    encoding: 'utf8',
    env: workerEnv(),
    timeout: Number.isFinite(opts.timeoutMs) && opts.timeoutMs > 0 ? opts.timeoutMs : undefined,
    maxBuffer: 256 * 1024 * 1024,
  });
  if (r.error) {
    const timedOut = (r.error as NodeJS.ErrnoException).code === 'ETIMEDOUT';
    return { ok: false, reason: timedOut ? `no answer within ${opts.timeoutMs} ms` : `cannot run ${opts.python}: ${r.error.message}`, batchFailure: true };
  }
  const line = (r.stdout ?? '').split('\n').find((l) => l.trim() !== '');
  let answer: Record<string, unknown> | undefined;
  try {
    answer = line ? (JSON.parse(line) as Record<string, unknown>) : undefined;
  } catch {
    /* below */
  }
  if (!answer || answer['seq'] !== 1) {
    const tail = (r.stderr ?? '').trim().split('\n').slice(-1)[0];
    const why = r.status !== 0 ? `the python worker exited (${r.signal ? `signal ${r.signal}` : `code ${r.status}`})${tail ? `: ${tail}` : ''}` : `unreadable answer from the python worker: ${JSON.stringify((line ?? '').slice(0, 80))}`;
    return { ok: false, reason: why, batchFailure: true };
  }
  if (typeof answer['error'] === 'string') return { ok: false, reason: answer['error'], batchFailure: false };
  return { ok: true, fns: (answer['fns'] as string[]) ?? [], results: (answer['r'] as EventResult[]) ?? [] };
}

/** Is this Python usable? (one check per interpreter, cached) */
const checked = new Map<string, string | undefined>();
export function pythonProblem(python: string): string | undefined {
  if (!checked.has(python)) {
    const r = spawnSync(python, ['-c', 'import sys; print(sys.version_info[0])'], { encoding: 'utf8', timeout: 20_000 });
    const problem = r.error ? `cannot run ${python} (${(r.error as NodeJS.ErrnoException).code ?? r.error.message}); install Python 3 or set OKTOPUS_PYTHON` : r.stdout.trim() !== '3' ? `${python} is not Python 3` : undefined;
    checked.set(python, problem);
  }
  return checked.get(python);
}
