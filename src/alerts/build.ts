/**
 * Alert documents, Kibana-compatible (reference elastic.md §3.7): the ECS view of the triggering
 * event is copied, `event.*` is copied again to `kibana.alert.original_event.*` and `data_stream.*`
 * to `kibana.alert.original_data_stream.*`, `event.kind` becomes `signal`, and the alert fields are
 * added as flat `kibana.alert.*` keys, as Kibana writes them in `_source`. Our own bookkeeping
 * lives under `oktopus.*`.
 *
 * An alert is fed back into the engine as an event, so higher-order rules of any dialect can
 * read it (`kibana.alert.rule.rule_id`, `kibana.alert.severity`, `user.name`, `event.dataset`…).
 */
import { createHash } from 'node:crypto';
import { isAbsolute, relative } from 'node:path';
import type { CanonicalEvent, Json, JsonObject } from '../event/types.js';
import type { RuleIR, Severity } from '../ir/types.js';
import { enrichmentOf, resolveField, type Accessor, type SchemaContext } from '../schema/index.js';
import { toEcsDocument } from '../schema/ecs.js';
import { ecsBlock, enrichmentBlock } from '../enrich/view.js';
import type { Match } from '../engine/stages/types.js';
import { presenterFor } from '../engine/code/registry.js';

export const SOURCE_INDEX = 'logs-okta.system-default';
export const ALERTS_INDEX = '.alerts-security.alerts-default';

/** Kibana's alert severity words; `informational` (Sigma, Panther INFO) is written as `low`. */
export function kibanaSeverity(s: Severity): 'low' | 'medium' | 'high' | 'critical' {
  return s === 'informational' ? 'low' : s;
}

/** Deterministic alert id: the rule and the events behind the match (and the stage's salt). */
export function alertId(rule: RuleIR, m: Match): string {
  const h = createHash('sha256');
  h.update(`${rule.dialect}\n${rule.id}\n`);
  for (const ev of m.events) h.update(`${ev.id}\n`);
  if (m.idSalt) h.update(m.idSalt);
  return h.digest('hex');
}

/** Stable rule uuid (Kibana's saved-object id of the rule), derived from dialect and rule id. */
export function ruleUuid(rule: RuleIR): string {
  const hex = createHash('sha256').update(`${rule.dialect}:${rule.id}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

function isKibanaKey(k: string): boolean {
  return k === 'kibana' || k.startsWith('kibana.') || k === 'signal' || k === 'threshold_result';
}

/** The source document an alert copies: ECS view of an Okta event, or the input alert's body. */
function sourceDocument(ev: CanonicalEvent, schema: SchemaContext): JsonObject {
  if (ev.kind === 'okta') {
    // The ECS view is cached on the event and shared by every alert of that event: copy the top
    // level; deeper levels are only written through setField, which copies what it changes.
    return withEnrichment({ ...toEcsDocument(ev, schema) }, ev, schema);
  }
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(ev.doc)) {
    if (isKibanaKey(k) || k === 'oktopus') continue;
    out[k] = structuredClone(v);
  }
  const enrichment = (ev.doc['oktopus'] as JsonObject | undefined)?.['enrichment'];
  if (enrichment !== undefined) out['oktopus'] = { enrichment: structuredClone(enrichment) };
  return out;
}

/**
 * The enrichment block of an Okta event's alert: `oktopus.enrichment` (unless the event carried
 * its own, which the ECS view already copied) and the ECS `source.geo`, `source.as` and
 * `threat.enrichments` (never replacing values the event had). Computed once per event.
 */
function withEnrichment(doc: JsonObject, ev: CanonicalEvent, schema: SchemaContext): JsonObject {
  const ctx = enrichmentOf(schema);
  const own = doc['oktopus'] as JsonObject | undefined;
  if (own?.['enrichment'] === undefined) {
    const block = enrichmentBlock(ev, ctx);
    if (block !== undefined) doc['oktopus'] = { ...(own ?? {}), enrichment: block };
  }
  const ecs = ecsBlock(ev, ctx);
  for (const top of ['source', 'threat'] as const) {
    const add = ecs?.[top] as JsonObject | undefined;
    if (!add) continue;
    const have = doc[top] as JsonObject | undefined;
    const merged: JsonObject = { ...(have ?? {}) };
    for (const [k, v] of Object.entries(add)) if (merged[k] === undefined) merged[k] = v;
    doc[top] = merged;
  }
  return doc;
}

/** Fields common to every document (Kibana's shell alert of a sequence holds the intersection). */
function intersection(docs: JsonObject[]): JsonObject {
  const [first, ...rest] = docs;
  if (!first) return {};
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(first)) {
    const others = rest.map((d) => d[k]);
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      if (others.every((o) => o !== null && typeof o === 'object' && !Array.isArray(o))) {
        const sub = intersection([v as JsonObject, ...(others as JsonObject[])]);
        if (Object.keys(sub).length > 0) out[k] = sub;
      }
    } else if (others.every((o) => JSON.stringify(o) === JSON.stringify(v))) {
      out[k] = v;
    }
  }
  return out;
}

interface Ancestor extends JsonObject {
  id: string;
  type: 'event' | 'signal';
  index: string;
  depth: number;
}

function ancestorsOf(ev: CanonicalEvent): Ancestor[] {
  if (ev.kind === 'okta') return [{ id: ev.id, type: 'event', index: SOURCE_INDEX, depth: 0 }];
  const prior = (ev.doc['kibana.alert.ancestors'] as Ancestor[] | undefined) ?? [];
  const rule = ev.doc['kibana.alert.rule.uuid'];
  const self: Ancestor = { id: ev.id, type: 'signal', index: ALERTS_INDEX, depth: ev.depth };
  if (typeof rule === 'string') self['rule'] = rule;
  return [...prior, self];
}

function str(v: Json | undefined): string | undefined {
  if (v === undefined || v === null) return undefined;
  return Array.isArray(v) ? v.map(String).join(', ') : String(v);
}

function reason(rule: RuleIR, doc: JsonObject, severity: string, actions?: string[]): string {
  const event = (doc['event'] as JsonObject | undefined) ?? {};
  const user = (doc['user'] as JsonObject | undefined) ?? {};
  const source = (doc['source'] as JsonObject | undefined) ?? {};
  // A sequence's shell holds only the fields its events share: name the sequence instead.
  const what = actions ? `sequence of ${actions.length} events (${[...new Set(actions)].join(', ')})` : `${str(event['action']) ?? 'event'} event`;
  const parts = [what];
  const u = str(user['name']);
  if (u) parts.push(`by ${u}`);
  const ip = str(source['ip']);
  if (ip) parts.push(`from ${ip}`);
  parts.push(`created ${severity} alert ${rule.name}.`);
  return parts.join(' ');
}

const ATTACK = 'https://attack.mitre.org';

/** MITRE ATT&CK references in Kibana's threat shape (`technique[]`, `subtechnique[]`, `reference`). */
function kibanaThreat(rule: RuleIR): Json {
  return rule.threat
    .filter((t) => t.tactic)
    .map((t) => ({
      framework: t.framework,
      tactic: { id: t.tactic!.id, name: t.tactic!.name, reference: `${ATTACK}/tactics/${t.tactic!.id}/` },
      technique: t.techniques.map((x) => ({
        id: x.id,
        name: x.name,
        reference: `${ATTACK}/techniques/${x.id}/`,
        subtechnique: (x.subtechniques ?? []).map((st) => ({
          id: st.id,
          name: st.name,
          reference: `${ATTACK}/techniques/${st.id.replace('.', '/')}/`,
        })),
      })),
    }));
}

/** A rule file as the user would name it: relative to the working folder when inside it. */
function displayPath(file: string): string {
  const rel = relative(process.cwd(), file);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : file;
}

/** Write `value` at a dotted path: flat key for `kibana.*`, nested objects otherwise. */
export function setField(doc: JsonObject, path: string, value: Json): void {
  if (path.startsWith('kibana.')) {
    doc[path] = value;
    return;
  }
  // Copy-on-write along the path: nested objects may be shared with the event's cached ECS view.
  const segs = path.split('.');
  let node = doc;
  for (const s of segs.slice(0, -1)) {
    const next = node[s];
    node[s] = next === null || typeof next !== 'object' || Array.isArray(next) ? {} : { ...next };
    node = node[s] as JsonObject;
  }
  node[segs[segs.length - 1]!] = value;
}

const SEVERITY_RANK: Record<Severity, number> = { informational: 0, low: 1, medium: 2, high: 3, critical: 4 };

const accessorsOf = new WeakMap<RuleIR, Map<string, Accessor>>();

/** The override fields of a rule resolved once per rule (not per alert), by field name. */
function overrideAccessors(rule: RuleIR, schema: SchemaContext): Map<string, Accessor> {
  let m = accessorsOf.get(rule);
  if (!m) {
    m = new Map();
    for (const f of [...(rule.severityMapping ?? []).map((x) => x.field), ...(rule.riskScoreField ? [rule.riskScoreField] : [])]) {
      if (!m.has(f.name)) m.set(f.name, resolveField(f, schema));
    }
    accessorsOf.set(rule, m);
  }
  return m;
}

function hasValue(v: unknown, want: string): boolean {
  return Array.isArray(v) ? v.some((x) => String(x) === want) : v !== undefined && v !== null && String(v) === want;
}

/**
 * Severity and risk score of an alert: the rule's, or its overrides (`severity_mapping`: the
 * highest matching severity wins, as in Kibana; `risk_score_mapping`: a 0–100 number) read from
 * the alert's source through `valueOf(field name)`.
 */
function rating(rule: RuleIR, valueOf: (field: string) => unknown): { severity: Severity; risk: number } {
  let severity = rule.severity;
  let mapped: Severity | undefined;
  for (const x of rule.severityMapping ?? []) {
    if (hasValue(valueOf(x.field.name), x.value) && (!mapped || SEVERITY_RANK[x.severity] > SEVERITY_RANK[mapped])) mapped = x.severity;
  }
  if (mapped) severity = mapped;
  let risk = rule.riskScore;
  const r = rule.riskScoreField ? valueOf(rule.riskScoreField.name) : undefined;
  const n = typeof r === 'number' ? r : typeof r === 'string' && r.trim() !== '' ? Number(r) : NaN;
  if (Number.isFinite(n) && n >= 0 && n <= 100) risk = n;
  return { severity, risk };
}

/** Overrides of an event's alert read the source event. */
function alertRating(rule: RuleIR, ev: CanonicalEvent, schema: SchemaContext): { severity: Severity; risk: number } {
  const accessors = overrideAccessors(rule, schema);
  return rating(rule, (field) => accessors.get(field)?.(ev));
}

/** The group of a threshold match: `kibana.alert.threshold_result.terms`. */
function thresholdTerms(m: Match): { field: string; value: Json }[] {
  const result = m.fields['kibana.alert.threshold_result'] as JsonObject | undefined;
  const terms = result?.['terms'];
  return Array.isArray(terms) ? (terms as { field: string; value: Json }[]) : [];
}

/**
 * Kibana's threshold alert is a new document (reference elastic.md §3.3): the group-by fields
 * with their values and `@timestamp` = the last counted event's time; nothing else of the events.
 */
function syntheticDocument(m: Match): JsonObject {
  const doc: JsonObject = { '@timestamp': new Date(m.time).toISOString() };
  for (const t of thresholdTerms(m)) setField(doc, t.field, t.value);
  return doc;
}

/** Overrides of a synthetic alert read its own document: the group-by values only. */
function syntheticRating(rule: RuleIR, m: Match): { severity: Severity; risk: number } {
  const values = new Map(thresholdTerms(m).map((t) => [t.field, t.value] as const));
  return rating(rule, (field) => values.get(field));
}

function thresholdReason(rule: RuleIR, m: Match, severity: string): string {
  const result = (m.fields['kibana.alert.threshold_result'] as JsonObject | undefined) ?? {};
  const terms = thresholdTerms(m).map((t) => `${t.field}=${str(t.value) ?? ''}`);
  return `${String(result['count'] ?? m.events.length)} events${terms.length > 0 ? ` with ${terms.join(', ')}` : ''} created ${severity} alert ${rule.name}.`;
}

/** Extra material for an alert of a group (Kibana's EQL sequence alerts). */
interface GroupPart {
  /** `kibana.alert.group.id`: the shell alert's id, shared by the group. */
  groupId: string;
  /** Building block `kibana.alert.group.index`; absent for the shell alert. */
  index?: number;
  /** The shell alert's ancestors include its building blocks. */
  ancestors?: Ancestor[];
}

/**
 * An EQL sequence's alerts, as Kibana writes them (reference elastic.md §3.5): one building-block
 * alert per event of the sequence (`kibana.alert.building_block_type: default`,
 * `kibana.alert.group.id`, `kibana.alert.group.index` = position) and one shell alert holding the
 * fields common to all of them, whose ancestors are the building blocks. Ids are deterministic:
 * the shell's from the rule and events, each building block's from the shell's and its position.
 */
export function buildSequenceAlerts(rule: RuleIR, m: Match, schema: SchemaContext): { uuid: string; doc: JsonObject }[] {
  const shellId = alertId(rule, m);
  const blocks = m.events.map((ev, index) => {
    const uuid = createHash('sha256').update(`${shellId}\nbuilding-block\n${index}`).digest('hex');
    const doc = buildAlert(rule, { events: [ev], time: m.time, fields: m.fields }, schema, uuid, { groupId: shellId, index });
    return { uuid, doc };
  });
  const blockAncestors: Ancestor[] = blocks.map((b) => ({
    id: b.uuid,
    type: 'signal',
    index: ALERTS_INDEX,
    depth: b.doc['kibana.alert.depth'] as number,
    rule: ruleUuid(rule),
  }));
  const shell = buildAlert(rule, m, schema, shellId, { groupId: shellId, ancestors: blockAncestors });
  return [...blocks, { uuid: shellId, doc: shell }];
}

export function buildAlert(rule: RuleIR, m: Match, schema: SchemaContext, uuid: string, group?: GroupPart): JsonObject {
  // Threshold matches (`oktopus.synthetic`) build a new document instead of copying events.
  const synthetic = m.fields['oktopus.synthetic'] === true;
  const sources = synthetic ? [syntheticDocument(m)] : m.events.map((ev) => sourceDocument(ev, schema));
  const doc = sources.length === 1 ? sources[0]! : intersection(sources);
  const last = m.events[m.events.length - 1]!;
  const rating = synthetic ? syntheticRating(rule, m) : alertRating(rule, last, schema);
  // Rules presenting their own alerts (Panther: severity(), title() and the other alert
  // functions): the presenter their dialect registered (src/engine/code/registry.ts).
  const presenter = synthetic ? undefined : presenterFor(rule);
  const panther = presenter?.present(rule, last, schema);
  if (panther) rating.severity = panther.severity;
  const severity = kibanaSeverity(rating.severity);

  const event = (doc['event'] as JsonObject | undefined) ?? {};
  for (const [k, v] of Object.entries(event)) doc[`kibana.alert.original_event.${k}`] = v;
  const ds = (doc['data_stream'] as JsonObject | undefined) ?? {};
  for (const [k, v] of Object.entries(ds)) doc[`kibana.alert.original_data_stream.${k}`] = v;
  const originalTime = doc['@timestamp'] ?? new Date(last.time).toISOString();

  doc['event'] = { ...event, kind: 'signal' };
  doc['@timestamp'] = new Date(m.time).toISOString();

  const ancestors: Ancestor[] = [];
  const seen = new Set<string>();
  for (const ev of m.events) {
    for (const a of ancestorsOf(ev)) {
      if (!seen.has(a.id)) {
        seen.add(a.id);
        ancestors.push(a);
      }
    }
  }
  for (const a of group?.ancestors ?? []) ancestors.push(a);
  const depth = Math.max(0, ...ancestors.map((a) => a.depth)) + 1;

  const alert: Record<string, Json> = {
    'kibana.alert.uuid': uuid,
    'kibana.alert.status': 'active',
    'kibana.alert.workflow_status': 'open',
    'kibana.alert.severity': severity,
    'kibana.alert.risk_score': rating.risk,
    'kibana.alert.reason': synthetic ? thresholdReason(rule, m, severity) : panther ? panther.title : reason(rule, doc, severity, m.events.length > 1 ? m.events.map((e) => (e.kind === 'okta' ? e.eventType : String(e.doc['kibana.alert.rule.name'] ?? 'alert'))) : undefined),
    'kibana.alert.original_time': originalTime,
    'kibana.alert.depth': depth,
    'kibana.alert.ancestors': ancestors,
    'kibana.alert.rule.rule_id': rule.id,
    'kibana.alert.rule.uuid': ruleUuid(rule),
    'kibana.alert.rule.name': rule.name,
    // Kibana's rule types; a Sigma/Panther/TypeScript rule's filter is a `query` (its own type is
    // in oktopus.rule_type).
    'kibana.alert.rule.type': rule.dialect === 'elastic' ? rule.ruleType : 'query',
    'kibana.alert.rule.severity': kibanaSeverity(rule.severity),
    'kibana.alert.rule.risk_score': rule.riskScore,
    'kibana.alert.rule.tags': rule.tags,
    'kibana.alert.rule.threat': kibanaThreat(rule),
    'kibana.alert.rule.description': rule.description ?? '',
    'kibana.alert.rule.references': rule.references,
    'kibana.alert.rule.false_positives': rule.falsePositives,
    'kibana.space_ids': ['default'],
  };
  if (rule.author) alert['kibana.alert.rule.author'] = [rule.author];
  if (rule.buildingBlock || group?.index !== undefined) alert['kibana.alert.building_block_type'] = 'default';
  if (group) alert['kibana.alert.group.id'] = group.groupId;
  if (group?.index !== undefined) alert['kibana.alert.group.index'] = group.index;
  Object.assign(doc, alert);

  setField(doc, 'oktopus.dialect', rule.dialect);
  setField(doc, 'oktopus.rule_type', rule.ruleType);
  setField(doc, 'oktopus.rule_file', displayPath(rule.file));
  setField(doc, 'oktopus.severity', rating.severity);
  if (rule.severityRaw) setField(doc, 'oktopus.severity_raw', rule.severityRaw);
  setField(doc, 'oktopus.event_uuids', m.events.map((e) => e.id));
  if (presenter && panther) for (const [k, v] of Object.entries(presenter.alertFields(rule, panther))) setField(doc, k, v);
  for (const [k, v] of Object.entries(m.fields)) setField(doc, k, v);
  return doc;
}
