/**
 * Field schemas: a rule's field name is resolved here, once, when the rule compiles, to an
 * accessor on the canonical event. Nothing in the per-event path looks at field names again.
 *
 *  - okta:  raw LogEvent paths, case-insensitive keys, arrays traversed (src/schema/path.ts).
 *  - ecs:   the Elastic Okta integration's ECS / okta.* fields, computed from the LogEvent by
 *           the mapping table in src/schema/ecs.ts; on alert events, read from the alert doc.
 *  - alert: `kibana.alert.*` and the other fields of alert documents (alert events only).
 */
import type { CanonicalEvent } from '../event/types.js';
import type { FieldRef } from '../ir/types.js';
import { compilePath } from './path.js';
import { ecsFieldCost, ecsFieldGetter } from './ecs.js';
import { EnrichmentContext } from '../enrich/context.js';
import { enrichmentGetter } from '../enrich/view.js';
import { isBaselineField } from '../enrich/baseline.js';

export interface SchemaContext {
  /** The Okta org (tenant) the events come from; feeds `cloud.account.id`. */
  org: string;
  /**
   * Enrichment sources (lists, MMDB files, user directory), created once per run. Absent:
   * enrichment fields are computed from Okta's own fields only (src/enrich, docs/enrichment.md).
   */
  enrichment?: EnrichmentContext;
}

/** The enrichment context of a schema context (Okta's own fields only when none was given). */
export function enrichmentOf(ctx: SchemaContext): EnrichmentContext {
  return ctx.enrichment ?? EnrichmentContext.NONE;
}

/**
 * Enrichment hook: a field the event itself carries (an input already enriched, e.g. Panther's
 * `p_enrichment` or our own `oktopus.enrichment` on a re-read alert) is read as it is; otherwise
 * an enrichment field (`oktopus.enrichment.*`, `p_enrichment.*`; in ECS also `source.geo.*`,
 * `source.as.*`, `threat.enrichments`) is computed at first read (src/enrich/view.ts).
 */
function withEnrichment(get: Accessor, name: string, schema: 'okta' | 'ecs', ctx: SchemaContext): Accessor {
  if (orderedReads && isBaselineField(name) && !enrichmentOf(ctx).disabled) orderedReads.push(name);
  const enrich = enrichmentGetter(name, schema, enrichmentOf(ctx));
  if (!enrich) return get;
  return (ev) => {
    const v = get(ev);
    return v !== undefined || ev.kind !== 'okta' ? v : enrich(ev);
  };
}

/** Names resolved inside `collectOrderedReads` that need event-time order (null: not collecting). */
let orderedReads: string[] | null = null;

/**
 * Run `fn` (a rule's compilation) and return, with its result, the fields it resolved whose values
 * depend on event order: the user-baseline fields (`oktopus.enrichment.user.new_country`, …;
 * src/enrich/baseline.ts). Every field a rule reads is resolved at compile time, so this is the
 * complete list (Panther code bodies read `p_enrichment`, which has no baseline fields).
 */
export function collectOrderedReads<T>(fn: () => T): { value: T; fields: string[] } {
  const saved = orderedReads;
  const fields: string[] = [];
  orderedReads = fields;
  try {
    return { value: fn(), fields };
  } finally {
    orderedReads = saved;
  }
}

/** Used when neither `--org` nor the config names the tenant (documented in README). */
export const DEFAULT_ORG = 'okta-org';

export type Accessor = (ev: CanonicalEvent) => unknown;

/**
 * Rough cost of reading a field (1 = a plain path into the event), for ordering a rule's tests
 * cheapest first: ECS fields computed by processors with logic cost more (ecsFieldCost).
 */
export function fieldCost(field: FieldRef): number {
  return field.schema === 'ecs' ? ecsFieldCost(field.name) : 1;
}

export function resolveField(field: FieldRef, ctx: SchemaContext): Accessor {
  switch (field.schema) {
    case 'okta': {
      const get = compilePath(field.name, { caseInsensitive: true });
      return withEnrichment((ev) => (ev.kind === 'okta' ? get(ev.doc) : undefined), field.name, 'okta', ctx);
    }
    case 'ecs': {
      const fromLog = ecsFieldGetter(field.name, ctx);
      const fromAlert = compilePath(field.name);
      return withEnrichment((ev) => (ev.kind === 'okta' ? fromLog(ev) : fromAlert(ev.doc)), field.name, 'ecs', ctx);
    }
    case 'alert': {
      const get = compilePath(field.name);
      return (ev) => (ev.kind === 'alert' ? get(ev.doc) : undefined);
    }
  }
}
