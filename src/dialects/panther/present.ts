/**
 * How a Panther rule presents an alert (reference panther-okta.md §1.3), computed once per
 * (rule, event, enrichment context) and shared by the dedup stage (the dedup string is its key)
 * and the alert builder (title, severity, context…), which reach it through the presenter
 * registry (src/engine/code/registry.ts; registered below). Bodies see the same Panther event
 * as rule() did (the engine SchemaContext's enrichment); YAML keys read `pantherView`:
 *
 *  - title:    title() if it returns a string (truncated to 1000: 985 + "... (truncated)"); YAML AlertTitle; else
 *              DisplayName, then RuleID.
 *  - dedup:    dedup() if it returns a non-empty string; YAML GroupBy values joined by `:`;
 *              else the title *function's* result (or AlertTitle); else
 *              `defaultDedupString:<RuleID>` — Panther does not dedup on the DisplayName
 *              fallback. 1000 characters at most.
 *  - severity: severity() upper-cased; `DEFAULT` (or an unknown word: an error) keeps the
 *              rule's Severity. YAML DynamicSeverities: the first whose conditions match.
 *  - alert_context: a mapping, JSON-serialised; above 200 KB it becomes `{_error: …}`, and an
 *              exception becomes `{_error: "<error>"}`. YAML AlertContext: key -> field value.
 *  - description / reference / runbook: strings that override the rule's.
 *  - destinations: a list (at most 10), `[]` means `["SKIP"]`, null/undefined default routing.
 *  - unique:   the string counted by unique-value thresholds.
 * Auxiliary functions run only when rule() matched. Their exceptions are kept in `errors`
 * (production ignores them, as Panther's batch mode does; `oktopus test` fails an expected-true
 * test on them, as Panther's test runner does).
 */
import type { CanonicalEvent, Json, JsonObject } from '../../event/types.js';
import type { Predicate, RuleIR, Severity } from '../../ir/types.js';
import { compilePredicate } from '../../engine/predicate/index.js';
import { registerPresenter, type AlertPresenter } from '../../engine/code/registry.js';
import type { SchemaContext } from '../../schema/index.js';
import { compilePath } from '../../schema/path.js';
import { normaliseSeverity } from '../severity.js';
import { currentModule, exportedFunction, loadCodeModule, type CodeModule } from '../typescript/module.js';
import { parseKeyPath } from './detection.js';
import { pantherEvent, pantherView, raw } from './event.js';
import { pythonResult } from './python/runtime.js';

export const MAX_TITLE = 1000;
export const MAX_DEDUP = 1000;
/** panther_core's marker for a cut string (`truncate`: the result is at most the maximum long). */
export const TRUNCATED_SUFFIX = '... (truncated)';

/** panther_core `truncate(s, max)`: longer strings keep `max - 15` characters and the marker. */
export function truncate(s: string, max: number): string {
  return s.length > max ? s.slice(0, max - TRUNCATED_SUFFIX.length) + TRUNCATED_SUFFIX : s;
}

/** The schema context of a presentation computed outside an engine (no enrichment sources). */
const NO_SCHEMA: SchemaContext = { org: 'panther' };
export const MAX_CONTEXT_BYTES = 200 * 1024;
export const MAX_DESTINATIONS = 10;

export interface PantherPresentation {
  title: string;
  dedup: string;
  severity: Severity;
  /** Panther's severity word (INFO, LOW, MEDIUM, HIGH, CRITICAL). */
  severityWord: string;
  context?: JsonObject;
  description?: string;
  reference?: string;
  runbook?: string;
  destinations?: string[];
  unique?: string;
  /** Auxiliary functions that raised or returned the wrong type. */
  errors: { fn: string; message: string }[];
}

const WORD: Record<Severity, string> = { informational: 'INFO', low: 'LOW', medium: 'MEDIUM', high: 'HIGH', critical: 'CRITICAL' };

export function severityWord(s: Severity): string {
  return WORD[s];
}

interface Compiled {
  mod?: CodeModule;
  /** AlertTitle, reading the Panther view of the event (pantherView). */
  title?: (doc: unknown) => string;
  context?: { key: string; get: (doc: unknown) => unknown }[];
  groupBy?: ((doc: unknown) => unknown)[];
  /** DynamicSeverities, compiled with the schema context of the engine presenting the alert. */
  dynamic: WeakMap<SchemaContext, { severity: Severity | 'default'; test: (ev: CanonicalEvent) => boolean }[]>;
}

const compiledOf = new WeakMap<RuleIR, Compiled>();

function render(v: unknown): string {
  if (v === undefined || v === null) return 'None';
  if (Array.isArray(v)) return v.map(render).join(', ');
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/**
 * A Panther KeyPath (`a.b`, `a[2].b`, `a[-1]`, `a[*].b`) as a getter on a plain document: keys
 * case-insensitive (literal dotted keys found, as `client.ipAddress` in p_enrichment), lists
 * traversed; `[n]` takes element n (negative: from the end) of the value found so far, `[*]`
 * is the traversal itself.
 */
export function compileKeyPath(path: string): (doc: unknown) => unknown {
  const segs = parseKeyPath(path);
  const parts: (((doc: unknown) => unknown) | number)[] = [];
  let run: string[] = [];
  const flush = (): void => {
    if (run.length) parts.push(compilePath(run.join('.'), { caseInsensitive: true }));
    run = [];
  };
  for (const s of segs) {
    if (typeof s === 'number') {
      flush();
      parts.push(s);
    } else if (s !== '*') run.push(s);
  }
  flush();
  if (parts.length === 1 && typeof parts[0] === 'function') return parts[0];
  return (doc) => {
    let node: unknown = doc;
    for (const part of parts) {
      if (node === undefined || node === null) return undefined;
      if (typeof part === 'number') node = Array.isArray(node) ? node[part < 0 ? node.length + part : part] : undefined;
      else node = part(node);
    }
    return node;
  };
}

/**
 * `{a.b}` placeholders read the event's fields (case-insensitive; KeyPath syntax, so `a[0].b`
 * and `a[*].b` too); `{{`/`}}` are literal braces. A list prints as its values joined by `, `,
 * a missing field as `None`.
 */
export function compileTemplate(template: string): (doc: unknown) => string {
  const parts: (string | ((doc: unknown) => unknown))[] = [];
  const re = /\{\{|\}\}|\{([^{}]*)\}/g;
  let last = 0;
  for (let m = re.exec(template); m; m = re.exec(template)) {
    parts.push(template.slice(last, m.index));
    if (m[0] === '{{') parts.push('{');
    else if (m[0] === '}}') parts.push('}');
    else parts.push(compileKeyPath(m[1]!.trim()));
    last = re.lastIndex;
  }
  parts.push(template.slice(last));
  return (doc) => parts.map((p) => (typeof p === 'string' ? p : render(p(doc)))).join('');
}

function compiled(rule: RuleIR): Compiled {
  let c = compiledOf.get(rule);
  if (c) return c;
  const spec = rule.panther;
  c = { dynamic: new WeakMap() };
  if (spec?.module && spec.runtime !== 'python') c.mod = loadCodeModule(spec.module);
  if (spec?.titleTemplate) c.title = compileTemplate(spec.titleTemplate);
  if (spec?.context) c.context = spec.context.map((x) => ({ key: x.key, get: compileKeyPath(x.field.name) }));
  if (spec?.groupBy) c.groupBy = spec.groupBy.map((f) => compileKeyPath(f.name));
  compiledOf.set(rule, c);
  return c;
}

/** DynamicSeverities read fields as the rule's Detection does: with the engine's schema context (lists, MMDBs). */
function dynamicOf(rule: RuleIR, c: Compiled, schema: SchemaContext): { severity: Severity | 'default'; test: (ev: CanonicalEvent) => boolean }[] | undefined {
  const list = rule.panther?.dynamicSeverities;
  if (!list) return undefined;
  let d = c.dynamic.get(schema);
  if (!d) {
    d = list.map((x) => ({ severity: x.severity, test: compilePredicate(x.predicate as Predicate, schema) }));
    c.dynamic.set(schema, d);
  }
  return d;
}

function message(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}

/** Calls an auxiliary function by name: undefined when the body lacks it, else its value (undefined after an error, kept in `errors`). */
type AuxCall = (name: string) => { value: unknown } | undefined;

/** A TypeScript/JavaScript body's functions, called now. */
function jsCaller(mod: CodeModule | undefined, event: unknown, errors: PantherPresentation['errors']): AuxCall {
  return (name) => {
    if (!mod) return undefined;
    const f = exportedFunction(mod, name);
    if (!f) return undefined;
    try {
      return { value: raw(f(event)) };
    } catch (e) {
      errors.push({ fn: name, message: message(e) });
      return { value: undefined };
    }
  };
}

/** A Python body's functions: computed by the worker with rule() (python/runtime.ts), read here. */
function pythonCaller(module: string, ev: CanonicalEvent, errors: PantherPresentation['errors']): AuxCall {
  const r = pythonResult(module, ev);
  const fns = r?.kind === 'match' ? r.fns : {};
  return (name) => {
    const x = fns[name];
    if (!x) return undefined;
    if (x.e !== undefined) {
      errors.push({ fn: name, message: x.e });
      return { value: undefined };
    }
    return { value: x.v };
  };
}

function plainJson(v: unknown): Json {
  return JSON.parse(JSON.stringify(v ?? null)) as Json;
}

/** Compute (once per rule and event) how the rule presents an alert for `ev`. */
export function pantherPresentation(rule: RuleIR, ev: CanonicalEvent, schema: SchemaContext = NO_SCHEMA): PantherPresentation {
  const enrichment = schema.enrichment;
  const cacheKey = `panther-presentation:${rule.dialect}:${rule.id}:${enrichment ? enrichment.id : 'none'}`;
  const hit = ev.cache.get(cacheKey) as PantherPresentation | undefined;
  if (hit) return hit;
  const c = compiled(rule);
  const spec = rule.panther;
  const errors: PantherPresentation['errors'] = [];
  let call: AuxCall;
  if (spec?.module && spec.runtime === 'python') call = pythonCaller(spec.module, ev, errors);
  else {
    const mod = c.mod && spec?.module ? currentModule(spec.module, c.mod) : undefined;
    call = mod ? jsCaller(mod, pantherEvent(ev, enrichment), errors) : () => undefined;
  }
  const out: PantherPresentation = { title: '', dedup: '', severity: rule.severity, severityWord: WORD[rule.severity], errors };
  // YAML presentation keys read Panther's view of the event: p_any_*, p_enrichment included.
  let viewDoc: JsonObject | undefined;
  const view = (): JsonObject => (viewDoc ??= pantherView(ev, enrichment));

  // title
  let titleFn: string | undefined;
  const t = call('title');
  if (t) {
    if (typeof t.value === 'string') titleFn = truncate(t.value, MAX_TITLE);
    else if (t.value !== undefined && t.value !== null) errors.push({ fn: 'title', message: `title() returned ${typeof t.value}, not a string` });
  } else if (c.title) {
    titleFn = truncate(c.title(view()), MAX_TITLE);
  }
  out.title = titleFn ?? (spec?.displayName || rule.id);

  // dedup
  let dedup: string | undefined;
  const d = call('dedup');
  if (d && typeof d.value === 'string' && d.value !== '') dedup = d.value;
  else if (d && d.value !== undefined && d.value !== null && typeof d.value !== 'string') errors.push({ fn: 'dedup', message: `dedup() returned ${typeof d.value}, not a string` });
  if (dedup === undefined && c.groupBy) dedup = c.groupBy.map((g) => render(g(view()))).join(':');
  out.dedup = truncate(dedup ?? (titleFn || `defaultDedupString:${rule.id}`), MAX_DEDUP);

  // severity
  const s = call('severity');
  if (s && s.value !== undefined && s.value !== null) {
    const word = typeof s.value === 'string' ? s.value.toUpperCase() : undefined;
    const sev = word && word !== 'DEFAULT' ? normaliseSeverity(word) : undefined;
    if (sev && ['INFO', 'LOW', 'MEDIUM', 'HIGH', 'CRITICAL'].includes(word!)) {
      out.severity = sev;
      out.severityWord = word!;
    } else if (word !== 'DEFAULT') {
      errors.push({ fn: 'severity', message: `severity() returned ${JSON.stringify(s.value)}: expected INFO, LOW, MEDIUM, HIGH, CRITICAL or DEFAULT` });
    }
  } else if (rule.panther?.dynamicSeverities) {
    const hit2 = dynamicOf(rule, c, schema)!.find((x) => x.test(ev));
    if (hit2 && hit2.severity !== 'default') {
      out.severity = hit2.severity;
      out.severityWord = WORD[hit2.severity];
    }
  }

  // alert_context
  const a = call('alert_context');
  if (a) {
    if (a.value === undefined && errors.some((e) => e.fn === 'alert_context')) {
      out.context = { _error: errors.find((e) => e.fn === 'alert_context')!.message };
    } else if (a.value !== null && a.value !== undefined && (typeof a.value !== 'object' || Array.isArray(a.value))) {
      const msg = `alert_context() returned ${Array.isArray(a.value) ? 'a list' : typeof a.value}, not a mapping`;
      errors.push({ fn: 'alert_context', message: msg });
      out.context = { _error: msg };
    } else if (a.value) {
      try {
        const text = JSON.stringify(a.value);
        out.context = Buffer.byteLength(text) > MAX_CONTEXT_BYTES
          ? { _error: `alert_context size is ${Buffer.byteLength(text)} bytes, bigger than the maximum of ${MAX_CONTEXT_BYTES} bytes` }
          : (JSON.parse(text) as JsonObject);
      } catch (e) {
        errors.push({ fn: 'alert_context', message: message(e) });
        out.context = { _error: message(e) };
      }
    }
  } else if (c.context) {
    const ctx: JsonObject = {};
    for (const x of c.context) ctx[x.key] = plainJson(x.get(view()) ?? null);
    out.context = ctx;
  }

  for (const name of ['description', 'reference', 'runbook'] as const) {
    const r = call(name);
    if (r && typeof r.value === 'string') out[name] = r.value;
    else if (r && r.value !== undefined && r.value !== null) errors.push({ fn: name, message: `${name}() returned ${typeof r.value}, not a string` });
  }
  if (out.runbook === undefined && spec?.runbook) out.runbook = spec.runbook;
  if (out.reference === undefined && spec?.reference) out.reference = spec.reference;

  const dst = call('destinations');
  if (dst && dst.value !== undefined && dst.value !== null) {
    if (Array.isArray(dst.value)) {
      const list = dst.value.map(String).slice(0, MAX_DESTINATIONS);
      if (dst.value.length > MAX_DESTINATIONS) errors.push({ fn: 'destinations', message: `destinations() returned ${dst.value.length} destinations; at most ${MAX_DESTINATIONS} are kept` });
      out.destinations = list.length === 0 ? ['SKIP'] : list;
    } else errors.push({ fn: 'destinations', message: `destinations() returned ${typeof dst.value}, not a list` });
  }

  const u = call('unique');
  if (u && u.value !== undefined && u.value !== null) out.unique = typeof u.value === 'string' ? u.value : JSON.stringify(u.value);

  ev.cache.set(cacheKey, out);
  return out;
}

/** Panther alert fields of an alert document (`oktopus.panther.*`). */
export function pantherAlertFields(rule: RuleIR, p: PantherPresentation): JsonObject {
  const f: JsonObject = {
    'oktopus.panther.title': p.title,
    'oktopus.panther.dedup': p.dedup,
    'oktopus.panther.severity': p.severityWord,
  };
  if (p.context !== undefined) f['oktopus.panther.alert_context'] = p.context;
  if (p.description !== undefined) f['oktopus.panther.description'] = p.description;
  if (p.reference !== undefined) f['oktopus.panther.reference'] = p.reference;
  if (p.runbook !== undefined) f['oktopus.panther.runbook'] = p.runbook;
  if (p.destinations !== undefined) f['oktopus.panther.destinations'] = p.destinations;
  if (rule.panther && !rule.panther.createAlert) f['oktopus.panther.create_alert'] = false;
  if (p.errors.length > 0) f['oktopus.panther.errors'] = p.errors.map((e) => `${e.fn}: ${e.message}`);
  return f;
}

/** The presenter the engine calls for Panther rules (dedup stage, alert builder). */
export const pantherPresenter: AlertPresenter<PantherPresentation> = {
  present: pantherPresentation,
  alertFields: pantherAlertFields,
};
registerPresenter('panther', pantherPresenter);
