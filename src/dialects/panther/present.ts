/**
 * How a Panther rule presents an alert (reference panther-okta.md §1.3), computed once per
 * (rule, event) and shared by the dedup stage (the dedup string is its key) and the alert
 * builder (title, severity, context…):
 *
 *  - title:    title() if it returns a string (1000 characters at most); YAML AlertTitle; else
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
import { compilePath } from '../../schema/path.js';
import { normaliseSeverity } from '../severity.js';
import { currentModule, exportedFunction, loadCodeModule, type CodeModule } from '../typescript/module.js';
import { pantherEvent, raw } from './event.js';

export const MAX_TITLE = 1000;
export const MAX_DEDUP = 1000;
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
  title?: (ev: CanonicalEvent) => string;
  context?: { key: string; get: (doc: unknown) => unknown }[];
  groupBy?: ((doc: unknown) => unknown)[];
  dynamic?: { severity: Severity | 'default'; test: (ev: CanonicalEvent) => boolean }[];
}

const compiledOf = new WeakMap<RuleIR, Compiled>();

function render(v: unknown): string {
  if (v === undefined || v === null) return 'None';
  if (Array.isArray(v)) return v.map(render).join(', ');
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/** `{a.b}` placeholders read the event's fields (case-insensitive); `{{`/`}}` are literal braces. */
export function compileTemplate(template: string): (doc: unknown) => string {
  const parts: (string | ((doc: unknown) => unknown))[] = [];
  const re = /\{\{|\}\}|\{([^{}]*)\}/g;
  let last = 0;
  for (let m = re.exec(template); m; m = re.exec(template)) {
    parts.push(template.slice(last, m.index));
    if (m[0] === '{{') parts.push('{');
    else if (m[0] === '}}') parts.push('}');
    else parts.push(compilePath(m[1]!.trim(), { caseInsensitive: true }));
    last = re.lastIndex;
  }
  parts.push(template.slice(last));
  return (doc) => parts.map((p) => (typeof p === 'string' ? p : render(p(doc)))).join('');
}

function compiled(rule: RuleIR): Compiled {
  let c = compiledOf.get(rule);
  if (c) return c;
  const spec = rule.panther;
  c = {};
  if (spec?.module) c.mod = loadCodeModule(spec.module);
  if (spec?.titleTemplate) {
    const t = compileTemplate(spec.titleTemplate);
    c.title = (ev) => t(ev.doc);
  }
  if (spec?.context) c.context = spec.context.map((x) => ({ key: x.key, get: compilePath(x.field.name, { caseInsensitive: true }) }));
  if (spec?.groupBy) c.groupBy = spec.groupBy.map((f) => compilePath(f.name, { caseInsensitive: true }));
  if (spec?.dynamicSeverities) {
    const schema = { org: 'panther' };
    c.dynamic = spec.dynamicSeverities.map((d) => ({ severity: d.severity, test: compilePredicate(d.predicate as Predicate, schema) }));
  }
  compiledOf.set(rule, c);
  return c;
}

function message(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}

/** Call an auxiliary function; undefined when the module lacks it. */
function call(mod: CodeModule | undefined, name: string, event: unknown, errors: PantherPresentation['errors']): { value: unknown } | undefined {
  if (!mod) return undefined;
  const f = exportedFunction(mod, name);
  if (!f) return undefined;
  try {
    return { value: raw(f(event)) };
  } catch (e) {
    errors.push({ fn: name, message: message(e) });
    return { value: undefined };
  }
}

function plainJson(v: unknown): Json {
  return JSON.parse(JSON.stringify(v ?? null)) as Json;
}

/** Compute (once per rule and event) how the rule presents an alert for `ev`. */
export function pantherPresentation(rule: RuleIR, ev: CanonicalEvent): PantherPresentation {
  const cacheKey = `panther-presentation:${rule.dialect}:${rule.id}`;
  const hit = ev.cache.get(cacheKey) as PantherPresentation | undefined;
  if (hit) return hit;
  const c = compiled(rule);
  const spec = rule.panther;
  const mod = c.mod && rule.panther?.module ? currentModule(rule.panther.module, c.mod) : undefined;
  const event = pantherEvent(ev);
  const errors: PantherPresentation['errors'] = [];
  const out: PantherPresentation = { title: '', dedup: '', severity: rule.severity, severityWord: WORD[rule.severity], errors };

  // title
  let titleFn: string | undefined;
  const t = call(mod, 'title', event, errors);
  if (t) {
    if (typeof t.value === 'string') titleFn = t.value.slice(0, MAX_TITLE);
    else if (t.value !== undefined && t.value !== null) errors.push({ fn: 'title', message: `title() returned ${typeof t.value}, not a string` });
  } else if (c.title) {
    titleFn = c.title(ev).slice(0, MAX_TITLE);
  }
  out.title = titleFn ?? (spec?.displayName || rule.id);

  // dedup
  let dedup: string | undefined;
  const d = call(mod, 'dedup', event, errors);
  if (d && typeof d.value === 'string' && d.value !== '') dedup = d.value;
  else if (d && d.value !== undefined && d.value !== null && typeof d.value !== 'string') errors.push({ fn: 'dedup', message: `dedup() returned ${typeof d.value}, not a string` });
  if (dedup === undefined && c.groupBy) dedup = c.groupBy.map((g) => render(g(ev.doc))).join(':');
  out.dedup = (dedup ?? (titleFn || `defaultDedupString:${rule.id}`)).slice(0, MAX_DEDUP);

  // severity
  const s = call(mod, 'severity', event, errors);
  if (s && s.value !== undefined && s.value !== null) {
    const word = typeof s.value === 'string' ? s.value.toUpperCase() : undefined;
    const sev = word && word !== 'DEFAULT' ? normaliseSeverity(word) : undefined;
    if (sev && ['INFO', 'LOW', 'MEDIUM', 'HIGH', 'CRITICAL'].includes(word!)) {
      out.severity = sev;
      out.severityWord = word!;
    } else if (word !== 'DEFAULT') {
      errors.push({ fn: 'severity', message: `severity() returned ${JSON.stringify(s.value)}: expected INFO, LOW, MEDIUM, HIGH, CRITICAL or DEFAULT` });
    }
  } else if (c.dynamic) {
    const hit2 = c.dynamic.find((x) => x.test(ev));
    if (hit2 && hit2.severity !== 'default') {
      out.severity = hit2.severity;
      out.severityWord = WORD[hit2.severity];
    }
  }

  // alert_context
  const a = call(mod, 'alert_context', event, errors);
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
    for (const x of c.context) ctx[x.key] = plainJson(x.get(ev.doc) ?? null);
    out.context = ctx;
  }

  for (const name of ['description', 'reference', 'runbook'] as const) {
    const r = call(mod, name, event, errors);
    if (r && typeof r.value === 'string') out[name] = r.value;
    else if (r && r.value !== undefined && r.value !== null) errors.push({ fn: name, message: `${name}() returned ${typeof r.value}, not a string` });
  }
  if (out.runbook === undefined && spec?.runbook) out.runbook = spec.runbook;
  if (out.reference === undefined && spec?.reference) out.reference = spec.reference;

  const dst = call(mod, 'destinations', event, errors);
  if (dst && dst.value !== undefined && dst.value !== null) {
    if (Array.isArray(dst.value)) {
      const list = dst.value.map(String).slice(0, MAX_DESTINATIONS);
      if (dst.value.length > MAX_DESTINATIONS) errors.push({ fn: 'destinations', message: `destinations() returned ${dst.value.length} destinations; at most ${MAX_DESTINATIONS} are kept` });
      out.destinations = list.length === 0 ? ['SKIP'] : list;
    } else errors.push({ fn: 'destinations', message: `destinations() returned ${typeof dst.value}, not a list` });
  }

  const u = call(mod, 'unique', event, errors);
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
