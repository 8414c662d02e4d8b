/**
 * Exception item entries -> IR predicates, with Kibana's semantics (security_solution
 * `build_exception_filter.ts`; docs/exceptions.md has each decision and its source):
 *
 *   type       operator included (UI)          Elasticsearch query            IR
 *   match      "is"                            match_phrase                   eq, case-sensitive (cidr on ip fields)
 *   match_any  "is one of"                     should of match_phrase         eq over the values
 *   exists     "exists"                        exists                         exists (JSON null = absent)
 *   wildcard   "matches"                       wildcard (case-sensitive)      wildcard, case-sensitive
 *   list       "is in list"                    terms / range / match          value-lists.ts
 *   nested     (entries under an object list)  nested                         elements: any element matches all
 *
 * `operator: excluded` ("is not", "is not one of", "does not exist", "does not match",
 * "is not in list") wraps the clause in `must_not`, so a missing field matches it: here `not`.
 * A multi-valued field matches when any of its values does (Elasticsearch term semantics).
 */
import type { FieldRef, Predicate, SchemaName } from '../ir/types.js';
import { parseNetwork } from '../engine/predicate/cidr.js';
import { ECS_FIELD_NAMES } from '../schema/ecs.js';
import { inListPredicate, checkValueListType, largeListReason, type ValueList, type ValueListProblem } from './value-lists.js';

export class EntryError extends Error {}

/** ECS fields of type `ip` in the Elastic Okta integration, and the raw LogEvent address fields. */
const IP_FIELDS = new Set([
  'source.ip',
  'client.ip',
  'destination.ip',
  'host.ip',
  'related.ip',
  'okta.client.ip',
  'okta.request.ip_chain.ip',
  'client.ipAddress',
  'request.ipChain.ip',
]);

const ECS_NAMES = new Set(ECS_FIELD_NAMES);

/**
 * Whether a field name is in the ECS vocabulary: a row of the mapping table (src/schema/ecs.ts),
 * a path inside one (`okta.debug_context.debug_data.…`), a parent of rows (`okta.security_context`),
 * or an alert field (`kibana.*`, `oktopus.*`). Anything else is a raw Okta LogEvent path.
 */
export function isEcsField(name: string): boolean {
  if (ECS_NAMES.has(name) || name.startsWith('kibana.') || name.startsWith('oktopus.')) return true;
  for (let i = name.lastIndexOf('.'); i > 0; i = name.lastIndexOf('.', i - 1)) if (ECS_NAMES.has(name.slice(0, i))) return true;
  const prefix = name + '.';
  return ECS_FIELD_NAMES.some((n) => n.startsWith(prefix));
}

/**
 * The top-level properties of an Okta System Log LogEvent (developer.okta.com, System Log API,
 * LogEvent object). A raw path must start with one of them (keys are case-insensitive).
 */
const LOG_EVENT_KEYS = new Set(
  ['uuid', 'published', 'eventType', 'version', 'severity', 'legacyEventType', 'displayMessage', 'actor', 'client', 'device', 'request', 'outcome', 'target', 'transaction', 'debugContext', 'authenticationContext', 'securityContext'].map((k) => k.toLowerCase()),
);

/** Whether a field name can be a raw LogEvent path: its first segment is a LogEvent property. */
export function isLogEventPath(name: string): boolean {
  return LOG_EVENT_KEYS.has(name.split('.')[0]!.toLowerCase());
}

/** A value as it may appear in an error line: at most 64 characters. */
export function shown(v: string): string {
  return v.length <= 64 ? v : `${v.slice(0, 61)}...`;
}

/** How an item's field names are read: always ECS (Kibana), a fixed schema, or per name ('auto'). */
export type FieldVocabulary = 'auto' | SchemaName;

export interface EntryContext {
  vocabulary: FieldVocabulary;
  /** Value lists by id (from YAML `value_lists:` and value-list files). */
  valueLists: Map<string, ValueList>;
  /** Values of a list that were not valid for its type (reported, left out). */
  listProblems: ValueListProblem[];
  /** Entries whose field no vocabulary knows (warnings: the item is kept, but likely a typo). */
  fieldWarnings: string[];
  /** Kibana's "large" value lists the item reads (why each is large), see largeListReason. */
  largeLists: string[];
}

const TYPES = ['match', 'match_any', 'exists', 'wildcard', 'list', 'nested'];

type Obj = Record<string, unknown>;

function fieldRef(name: string, ctx: EntryContext): FieldRef {
  const schema: SchemaName = ctx.vocabulary === 'auto' ? (isEcsField(name) ? 'ecs' : 'okta') : ctx.vocabulary;
  return { name, schema };
}

/**
 * A field the chosen vocabulary cannot know (`source.ipp`): it never has a value, so "is" never
 * matches and "is not" always does. Kibana accepts such a field too; oktopus warns.
 */
function checkFieldKnown(field: FieldRef, ctx: EntryContext): void {
  const known = field.schema === 'ecs' ? isEcsField(field.name) : field.schema === 'okta' ? isLogEventPath(field.name) : true;
  if (known) return;
  const vocab = ctx.vocabulary === 'auto' ? 'neither an ECS field of the Okta integration nor a LogEvent path' : field.schema === 'ecs' ? 'not an ECS field of the Okta integration (schema: ecs)' : 'not a LogEvent path (schema: okta)';
  ctx.fieldWarnings.push(`field '${shown(field.name)}' is ${vocab}: it never has a value here`);
}

function stringValue(v: unknown, what: string): string {
  if (typeof v === 'string' && v.trim() !== '') return v;
  // Kibana keeps every value as a string; a JSON number or boolean in an export is taken as its
  // string form. (YAML plain scalars arrive as their source text: `007` stays '007', oktopus-yaml.ts.)
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  throw new EntryError(`${what} must be a non-empty string`);
}

/** `field is value` for one or several values: cidr on ip fields when every value is an address or CIDR. */
function matchPredicate(field: FieldRef, values: string[]): Predicate {
  if (IP_FIELDS.has(field.name)) {
    // match_phrase on an ip field is a term query, which takes an address or a CIDR.
    // Checked with the engine's own parser (src/engine/predicate/cidr.ts), so what loads compiles.
    for (const v of values) {
      try {
        parseNetwork(v);
      } catch {
        throw new EntryError(`'${shown(v)}' is not an IP address or CIDR (${field.name} is an ip field)`);
      }
    }
    return { type: 'compare', field, op: 'cidr', values };
  }
  return { type: 'compare', field, op: 'eq', values, options: { caseSensitive: true } };
}

/**
 * One entry as a predicate. `nestedIn`: the entry sits inside a `nested` entry (its field is
 * relative to the nested object; list and nested entries are not allowed there, as in Kibana).
 * Throws EntryError with a message naming what is wrong.
 */
export function entryPredicate(raw: unknown, ctx: EntryContext, nestedIn?: string): Predicate {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new EntryError('an entry is a mapping with type, field, operator and value');
  const e = raw as Obj;
  const type = e['type'];
  if (typeof type !== 'string' || !TYPES.includes(type)) throw new EntryError(`unknown entry type ${JSON.stringify(type)} (known: ${TYPES.join(', ')})`);
  const name = e['field'];
  if (typeof name !== 'string' || name.trim() === '') throw new EntryError(`${type} entry has no field`);
  if (nestedIn !== undefined && (type === 'list' || type === 'nested' || type === 'wildcard')) {
    throw new EntryError(`a ${type} entry cannot sit inside a nested entry (Kibana allows match, match_any and exists there)`);
  }
  const operator = e['operator'] ?? (type === 'nested' ? 'included' : undefined);
  if (operator !== 'included' && operator !== 'excluded') throw new EntryError(`unknown operator ${JSON.stringify(operator)} (included or excluded)`);
  // Inside a nested entry the field is relative to the nested object (read as a path into it).
  const field: FieldRef = nestedIn !== undefined ? { name, schema: fieldRef(nestedIn, ctx).schema } : fieldRef(name, ctx);
  if (nestedIn === undefined) checkFieldKnown(field, ctx);
  let p: Predicate;
  switch (type) {
    case 'match':
      p = matchPredicate(field, [stringValue(e['value'], 'value')]);
      break;
    case 'match_any': {
      const values = e['value'];
      if (!Array.isArray(values) || values.length === 0) throw new EntryError('match_any value must be a non-empty list');
      p = matchPredicate(field, values.map((v, i) => stringValue(v, `value ${i + 1}`)));
      break;
    }
    case 'exists':
      p = { type: 'exists', field, nullIsMissing: true };
      break;
    case 'wildcard':
      p = { type: 'compare', field, op: 'wildcard', values: [stringValue(e['value'], 'value')], options: { caseSensitive: true } };
      break;
    case 'list': {
      const list = e['list'] as Obj | undefined;
      if (!list || typeof list !== 'object' || typeof list['id'] !== 'string') throw new EntryError('list entry needs list: {id, type}');
      const id = list['id'];
      const found = ctx.valueLists.get(id);
      if (!found) throw new EntryError(`value list '${id}' was not provided (a value-list file named ${id}, or value_lists: in an oktopus YAML)`);
      let listType;
      try {
        listType = checkValueListType(list['type'] ?? found.type);
      } catch (err) {
        throw new EntryError(`value list '${id}': ${(err as Error).message}`);
      }
      if (found.type !== undefined && list['type'] !== undefined && found.type !== listType) {
        throw new EntryError(`value list '${id}' is declared ${found.type} (${found.source}) but the entry reads it as ${listType}`);
      }
      p = inListPredicate(field, listType, found.values, ctx.listProblems);
      const large = largeListReason(listType, found.values.map((v) => v.value));
      if (large) ctx.largeLists.push(`value list '${id}' ${large}`);
      break;
    }
    case 'nested': {
      const inner = e['entries'];
      if (!Array.isArray(inner) || inner.length === 0) throw new EntryError('nested entry needs a non-empty entries list');
      const preds = inner.map((x, i) => {
        try {
          return entryPredicate(x, ctx, name);
        } catch (err) {
          throw new EntryError(`nested entry ${i + 1}: ${(err as Error).message}`);
        }
      });
      // Elasticsearch `nested`: one object of the list must satisfy every inner clause.
      return { type: 'elements', field, quantifier: 'any', where: preds.length === 1 ? preds[0]! : { type: 'and', args: preds } };
    }
    default:
      throw new EntryError(`unknown entry type '${type}'`);
  }
  return operator === 'excluded' ? { type: 'not', arg: p } : p;
}

/** An item's entries as one predicate (AND); throws EntryError prefixed with the entry's position. */
export function itemPredicate(entries: unknown, ctx: EntryContext): Predicate {
  if (!Array.isArray(entries) || entries.length === 0) throw new EntryError('an item needs a non-empty entries list');
  const preds = entries.map((x, i) => {
    const warned = ctx.fieldWarnings.length;
    try {
      return entryPredicate(x, ctx);
    } catch (err) {
      throw new EntryError(`entry ${i + 1}: ${(err as Error).message}`);
    } finally {
      for (let w = warned; w < ctx.fieldWarnings.length; w++) ctx.fieldWarnings[w] = `entry ${i + 1}: ${ctx.fieldWarnings[w]}`;
    }
  });
  return preds.length === 1 ? preds[0]! : { type: 'and', args: preds };
}
