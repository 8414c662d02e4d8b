/**
 * The `javascript` code runtime: a Panther rule body written in TypeScript/JavaScript, loaded
 * in this process (../typescript/module.ts) and called synchronously with Panther's event
 * object (event.ts). Its truthy result (Python truthiness: an empty list or object is false)
 * matches; an exception means no match and is counted per module (`codeErrors`).
 *
 * The module is loaded (its top-level code runs) when the predicate compiles, i.e. when an
 * engine or `oktopus test` is about to evaluate it — never while rules are only parsed
 * (`rules list`, `explain`): the parser reads the exports statically (module.ts).
 *
 * The result is cached per event and compiled predicate (`ev.cache`): the engine may test a
 * stateful rule's head twice for one event (before and after the reorder window), and a body
 * with side effects (Panther's caching helpers, counters) must run once per event.
 */
import { recordCodeError, type CodeRuntime } from '../../engine/code/registry.js';
import { currentModule, exportedFunction, loadCodeModule } from '../typescript/module.js';
import { pantherEvent } from './event.js';

/** Python's truth value of a rule() result (an empty list or mapping is false). */
export function truthy(v: unknown): boolean {
  if (Array.isArray(v)) return v.length > 0;
  if (v !== null && typeof v === 'object') return Object.keys(v).length > 0;
  return Boolean(v);
}

let compiledCount = 0;

export const javascriptRuntime: CodeRuntime = {
  name: 'javascript',
  compile(p, ctx) {
    const file = p.module;
    const enrichment = ctx.enrichment;
    const loaded = loadCodeModule(file);
    if (!exportedFunction(loaded, p.fn)) throw new Error(`${file} exports no function ${p.fn}()`);
    // One cache slot per compiled predicate: its result for an event is computed once.
    const slot = `code-result#${++compiledCount}`;
    return (ev) => {
      const hit = ev.cache.get(slot);
      if (hit !== undefined) return hit as boolean;
      const mod = currentModule(file, loaded);
      const f = exportedFunction(mod, p.fn);
      let result = false;
      if (f) {
        try {
          result = truthy(f(pantherEvent(ev, enrichment)));
        } catch (e) {
          recordCodeError(file, e instanceof Error ? `${e.name}: ${e.message}` : String(e));
        }
      }
      ev.cache.set(slot, result);
      return result;
    };
  },
};
