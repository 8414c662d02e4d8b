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
import { ecsFieldGetter } from './ecs.js';

export interface SchemaContext {
  /** The Okta org (tenant) the events come from; feeds `cloud.account.id`. */
  org: string;
}

/** Used when neither `--org` nor the config names the tenant (documented in README). */
export const DEFAULT_ORG = 'okta-org';

export type Accessor = (ev: CanonicalEvent) => unknown;

export function resolveField(field: FieldRef, ctx: SchemaContext): Accessor {
  switch (field.schema) {
    case 'okta': {
      const get = compilePath(field.name, { caseInsensitive: true });
      return (ev) => (ev.kind === 'okta' ? get(ev.doc) : undefined);
    }
    case 'ecs': {
      const fromLog = ecsFieldGetter(field.name, ctx);
      const fromAlert = compilePath(field.name);
      return (ev) => (ev.kind === 'okta' ? fromLog(ev) : fromAlert(ev.doc));
    }
    case 'alert': {
      const get = compilePath(field.name);
      return (ev) => (ev.kind === 'alert' ? get(ev.doc) : undefined);
    }
  }
}
