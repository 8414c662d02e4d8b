/**
 * Which Okta event types can a predicate match? Used by the rule index so that an event only
 * meets the rules that could match it. The answer is sound, never precise: `undefined` means
 * "any event type" (the rule is always a candidate).
 */
import type { FieldRef, Predicate } from '../ir/types.js';

/** Field names that hold the Okta eventType, per schema. */
function isEventTypeField(f: FieldRef): boolean {
  const n = f.name.toLowerCase();
  if (f.schema === 'okta') return n === 'eventtype';
  if (f.schema === 'ecs') return n === 'event.action' || n === 'okta.event_type';
  return false;
}

/** Does an IR glob hold an unescaped `*` or `?` (`\\*` is an escaped backslash, then a wildcard)? */
function hasWildcard(glob: string): boolean {
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '\\') i++;
    else if (c === '*' || c === '?') return true;
  }
  return false;
}

/** Lower-cased event types the predicate requires, or undefined when unconstrained. */
export function requiredEventTypes(p: Predicate): Set<string> | undefined {
  switch (p.type) {
    case 'compare': {
      if (!isEventTypeField(p.field) || p.options?.all) return undefined;
      if (p.op === 'eq') return new Set(p.values.map((v) => String(v).toLowerCase()));
      if (p.op === 'wildcard' && !p.values.some((v) => hasWildcard(String(v)))) {
        return new Set(p.values.map((v) => unescapeGlob(String(v)).toLowerCase()));
      }
      return undefined;
    }
    case 'and': {
      let best: Set<string> | undefined;
      for (const a of p.args) {
        const s = requiredEventTypes(a);
        if (s && (!best || s.size < best.size)) best = s;
      }
      return best;
    }
    case 'or': {
      const out = new Set<string>();
      for (const a of p.args) {
        const s = requiredEventTypes(a);
        if (!s) return undefined;
        for (const v of s) out.add(v);
      }
      return out;
    }
    case 'const':
      return p.value ? undefined : new Set();
    default:
      return undefined;
  }
}

function unescapeGlob(s: string): string {
  return s.replace(/\\([*?\\])/g, '$1');
}
