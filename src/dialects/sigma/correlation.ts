/**
 * Sigma correlation rules (specification 2.x `sigma-correlation-rules-specification.md`, schema
 * `sigma-correlation-rules-schema.json`; pySigma `sigma/correlations.py` for the v2.1 metrics,
 * `w`/`M`/`y` timespans and defaults) -> a RuleIR reading alerts, with a correlation stage
 * (runtime and semantics: src/engine/stages/correlation.ts, docs/sigma.md "Correlations").
 *
 *  - `type`: event_count, value_count, temporal, temporal_ordered, value_sum, value_avg,
 *    value_percentile, value_median. pySigma's extended temporal conditions (a boolean string
 *    over rule names) are reported unsupported.
 *  - `rules`: ids or names (a string or a list). A name defined in the same file is translated to
 *    that rule's id (the spec: "the tool must be able to manage the name-to-id translation");
 *    any other reference is matched on alerts by rule id, else by rule name (title).
 *  - `group-by`: a field or list (optional, as in pySigma: none = one group); raw Okta paths as
 *    the referenced rules write them (schema `okta`, read on alerts through the ECS mapping),
 *    or an alias.
 *  - `aliases`: `{alias: {rule name: field}}`; an alias in `group-by` reads each rule's field.
 *  - `timespan`: `<n><s|m|h|d|w|M|y>` (pySigma: M = 2,629,746 s, y = 31,556,952 s).
 *  - `condition`: a map of one or more of gt/gte/lt/lte/eq/neq (several = a range, as the spec
 *    text allows), `field` (a name, or a list for value_count tuples), `percentile`. Required but
 *    for temporal types, whose default is `gte: <number of rules>` (pySigma).
 *  - `generate` (in `correlation:` as pySigma reads it, or top-level as the spec lists it;
 *    default false): false hides the referenced rules' own alerts (the engine marks them
 *    `oktopus.hidden`: stored and fed to the correlation, not delivered to the sinks).
 *  - Metadata as detection rules: title (required), id/name, status, level, description, author,
 *    tags, references, falsepositives.
 */
import type { CorrelationMember, CorrelationOp, CorrelationStage, FieldRef, RuleIR } from '../../ir/types.js';
import { correlationHead } from '../../engine/stages/correlation.js';
import { sigmaRuleIR, statusAndLevel, type MetadataDoc } from './metadata.js';
import { entry, toPlain, type YEntry, type YMap } from './yaml.js';

/** What the correlation reader needs of rule.ts's document reader. */
export interface CorrelationDoc extends MetadataDoc {
  map(key: string): YMap | undefined;
  ruleId(): string;
}

/** Rules of the same file: Sigma `name` -> rule id, and rule id -> `name`. */
export interface FileNames {
  idOf: Map<string, string>;
  nameOf: Map<string, string>;
}

const TYPES = new Set<CorrelationStage['kind']>([
  'event_count',
  'value_count',
  'temporal',
  'temporal_ordered',
  'value_sum',
  'value_avg',
  'value_percentile',
  'value_median',
]);

const OPS: CorrelationOp[] = ['gt', 'gte', 'lt', 'lte', 'eq', 'neq'];

const UNIT_MS: Record<string, number> = {
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
  M: 2_629_746_000,
  y: 31_556_952_000,
};

/** `90m` -> milliseconds; undefined when malformed or zero. */
export function parseTimespan(text: string): number | undefined {
  const m = /^([0-9]+)([smhdwMy])$/.exec(text.trim());
  if (!m) return undefined;
  const n = Number(m[1]);
  return n > 0 ? n * UNIT_MS[m[2]!]! : undefined;
}

function field(name: string): FieldRef {
  return { name, schema: 'okta' };
}

export type CorrelationResult = { rule: RuleIR } | { unsupported: string };

export function correlationDocument(doc: CorrelationDoc, names: FileNames): CorrelationResult {
  const title = doc.string('title', true)!;
  const id = doc.ruleId();
  const corr = doc.map('correlation')!;
  const at = (key: string): YEntry | undefined => entry(corr, key);
  const plain = (key: string): unknown => {
    const e = at(key);
    return e ? toPlain(e.value) : undefined;
  };

  const typeWord = plain('type');
  if (typeof typeWord !== 'string') doc.fail("the correlation has no 'type'", corr);
  if (!TYPES.has(typeWord as CorrelationStage['kind'])) {
    doc.fail(`unknown correlation type '${typeWord}' (expected ${[...TYPES].join(', ')})`, at('type'));
  }
  const kind = typeWord as CorrelationStage['kind'];
  const temporal = kind === 'temporal' || kind === 'temporal_ordered';

  const rulesRaw = plain('rules');
  const refs = typeof rulesRaw === 'string' ? [rulesRaw] : Array.isArray(rulesRaw) ? rulesRaw.map(String) : undefined;
  if (!refs || refs.length === 0) doc.fail("the correlation has no 'rules' (ids or names of the rules it correlates)", at('rules') ?? corr);

  const groupRaw = plain('group-by');
  const groupBy = groupRaw === undefined || groupRaw === null ? [] : typeof groupRaw === 'string' ? [groupRaw] : Array.isArray(groupRaw) ? groupRaw.map(String) : doc.fail("'group-by' must be a field name or a list", at('group-by'));

  const spanRaw = plain('timespan');
  if (spanRaw === undefined) doc.fail("the correlation has no 'timespan'", corr);
  const timespanMs = parseTimespan(String(spanRaw));
  if (timespanMs === undefined) doc.fail(`invalid timespan '${String(spanRaw)}' (a positive number and one of s, m, h, d, w, M, y: 90m)`, at('timespan'));

  const aliasesRaw = plain('aliases');
  if (aliasesRaw !== undefined && (aliasesRaw === null || typeof aliasesRaw !== 'object' || Array.isArray(aliasesRaw))) doc.fail("'aliases' must map alias names to {rule name: field}", at('aliases'));
  const aliases = (aliasesRaw ?? {}) as Record<string, unknown>;
  for (const [alias, mapping] of Object.entries(aliases)) {
    if (mapping === null || typeof mapping !== 'object' || Array.isArray(mapping)) doc.fail(`alias '${alias}' must map rule names to fields`, at('aliases'));
  }

  const condRaw = plain('condition');
  if (typeof condRaw === 'string') return { unsupported: 'extended (boolean) correlation conditions are not supported; use a map such as {gte: 2}' };
  let condition: CorrelationStage['condition'];
  if (condRaw === undefined || condRaw === null) {
    if (!temporal) doc.fail(`a ${kind} correlation needs a 'condition'`, corr);
    condition = { op: 'gte', value: refs!.length };
  } else {
    if (typeof condRaw !== 'object' || Array.isArray(condRaw)) doc.fail("'condition' must be a map such as {gte: 10}", at('condition'));
    const c = condRaw as Record<string, unknown>;
    const unknown = Object.keys(c).filter((k) => !OPS.includes(k as CorrelationOp) && k !== 'field' && k !== 'percentile');
    if (unknown.length > 0) doc.fail(`unknown condition key(s) ${unknown.join(', ')} (expected ${OPS.join(', ')}, field, percentile)`, at('condition'));
    const bounds = OPS.filter((op) => c[op] !== undefined).map((op) => {
      const v = c[op];
      const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
      if (!Number.isFinite(n)) doc.fail(`condition ${op}: '${String(v)}' is not a number`, at('condition'));
      return { op, value: n };
    });
    if (bounds.length === 0) doc.fail(`the condition needs one of ${OPS.join(', ')}`, at('condition'));
    condition = { op: bounds[0]!.op, value: bounds[0]!.value };
    if (bounds.length > 1) condition.and = bounds.slice(1);
    const f = c['field'];
    if (typeof f === 'string') condition.field = field(f);
    else if (Array.isArray(f) && f.length > 0) {
      if (kind !== 'value_count' && f.length > 1) doc.fail(`a ${kind} correlation takes one field`, at('condition'));
      condition.field = field(String(f[0]));
      if (f.length > 1) condition.fields = f.map((x) => field(String(x)));
    }
    if (c['percentile'] !== undefined) {
      const p = Number(c['percentile']);
      if (!Number.isFinite(p) || p < 0 || p > 100) doc.fail(`percentile '${String(c['percentile'])}' must be a number from 0 to 100`, at('condition'));
      condition.percentile = p;
    }
  }
  if (!temporal && kind !== 'event_count' && !condition.field) doc.fail(`a ${kind} correlation needs 'field' in its condition`, at('condition') ?? corr);
  if (kind === 'value_percentile' && condition.percentile === undefined) doc.fail("a value_percentile correlation needs 'percentile' in its condition", at('condition') ?? corr);

  const generateRaw = plain('generate') ?? (doc.get('generate') ? toPlain(doc.get('generate')!.value) : undefined);
  if (generateRaw !== undefined && typeof generateRaw !== 'boolean') doc.fail("'generate' must be true or false", at('generate') ?? doc.get('generate'));

  // Members: names of this file become ids; aliases give a member its own group-by fields.
  const members: CorrelationMember[] = refs!.map((ref) => {
    const resolved = names.idOf.get(ref) ?? ref;
    const known = [ref, resolved, names.nameOf.get(resolved)].filter((x): x is string => x !== undefined);
    const member: CorrelationMember = { rule: resolved };
    if (groupBy.some((g) => aliases[g] !== undefined)) {
      member.keys = groupBy.map((g) => {
        const mapping = aliases[g] as Record<string, unknown> | undefined;
        if (!mapping) return field(g);
        const hit = known.map((k) => mapping[k]).find((v) => v !== undefined);
        if (hit === undefined) doc.fail(`alias '${g}' names no field for rule '${ref}'`, at('aliases'));
        return field(String(hit));
      });
    }
    return member;
  });

  const stage: CorrelationStage = {
    type: 'correlation',
    kind,
    rules: members.map((m) => m.rule),
    groupBy: groupBy.map(field),
    timespanMs: timespanMs!,
    condition,
    generate: generateRaw === true,
  };
  if (members.some((m) => m.keys)) stage.members = members;

  const meta = statusAndLevel(doc);
  const rule = sigmaRuleIR(doc, { id, title, ruleType: 'correlation', input: 'alerts', stages: [{ type: 'filter', predicate: correlationHead(stage.rules) }, stage] }, meta);
  return { rule };
}
