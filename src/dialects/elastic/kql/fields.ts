/**
 * Field names of a KQL query, resolved as Kibana resolves them against the data view
 * (`kuery/node_types/field` / `utils/get_fields.ts`):
 *  - a plain name is used as written (a field the data view lacks is passed through as is,
 *    and simply never has a value);
 *  - a name with `*` (`okta.target.*`) stands for every field of the data view it matches,
 *    the star matching any run of characters, dots included. When none matches, Kibana passes
 *    the pattern through as a field name, which no document has: nothing matches.
 *
 * The "data view" here is the Okta integration's fields: every ECS row oktopus computes
 * (`ECS_FIELD_NAMES`), plus the leaf fields inside the rows that hold objects or arrays of
 * objects, as the integration's fields.yml declares them (`okta.target.id`, ...).
 */
import { ECS_FIELD_NAMES } from '../../../schema/ecs.js';

/** fields.yml leaves below ECS rows whose value is an object (or an array of objects). */
const OBJECT_ROW_LEAVES: Record<string, readonly string[]> = {
  'okta.target': ['id', 'type', 'alternate_id', 'display_name'],
  'okta.authentication_context.issuer': ['id', 'type'],
  'okta.device': [
    'id',
    'name',
    'os_platform',
    'os_version',
    'managed',
    'registered',
    'secure_hardware_present',
    'disk_encryption_type',
    'screen_lock_type',
  ],
};

/** Every field name a wildcard field pattern can expand to. */
export const KQL_FIELD_NAMES: readonly string[] = Object.freeze([
  ...ECS_FIELD_NAMES,
  ...Object.entries(OBJECT_ROW_LEAVES).flatMap(([row, leaves]) => leaves.map((leaf) => `${row}.${leaf}`)),
]);

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * The fields a wildcard field pattern stands for. `parts` is the literal text between the
 * stars (see WildcardNode), in the order of KQL_FIELD_NAMES.
 */
export function expandFieldPattern(parts: readonly string[]): string[] {
  const re = new RegExp(`^${parts.map(escapeRegExp).join('[\\s\\S]*')}$`);
  return KQL_FIELD_NAMES.filter((name) => re.test(name));
}
