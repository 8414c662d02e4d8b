/**
 * Field references (Sigma `|fieldref`): compare a field with another field of the same event.
 *
 * `field <op> other` holds when some scalar of `field` and some scalar of `other` satisfy the
 * operator (arrays on either side: any element). Missing fields, JSON null and objects never
 * match. Scalars are compared by string form with `coerce: 'string'` (so `4624` equals
 * `"4624"`); with 'typed', `eq` needs equal types and the substring operators only look at
 * strings. Case-insensitive unless `caseSensitive`.
 */
import type { CompareOptions } from '../../ir/types.js';
import type { Accessor } from '../../schema/index.js';
import type { EventTest } from './compare.js';
import { scalarsOf, stringView, type EventScalar } from './values.js';

export type FieldRefOp = 'eq' | 'contains' | 'startswith' | 'endswith';

function relation(op: FieldRefOp): (a: string, b: string) => boolean {
  switch (op) {
    case 'eq':
      return (a, b) => a === b;
    case 'contains':
      return (a, b) => a.includes(b);
    case 'startswith':
      return (a, b) => a.startsWith(b);
    case 'endswith':
      return (a, b) => a.endsWith(b);
  }
}

export function compileFieldRef(
  getField: Accessor,
  getOther: Accessor,
  op: FieldRefOp,
  options: CompareOptions = {},
): EventTest {
  const caseSensitive = options.caseSensitive ?? false;
  const typed = options.coerce === 'typed';
  const view = stringView(typed ? 'typed' : 'string', caseSensitive);
  const rel = relation(op);

  const typedEq = (a: EventScalar, b: EventScalar): boolean => {
    if (typeof a !== typeof b) return false;
    if (typeof a === 'string' && !caseSensitive) return a.toLowerCase() === (b as string).toLowerCase();
    return a === b;
  };

  return (ev) => {
    const left = getField(ev);
    if (left === undefined || left === null) return false;
    const right = getOther(ev);
    if (right === undefined || right === null) return false;
    const as = scalarsOf(left);
    const bs = scalarsOf(right);
    if (typed && op === 'eq') {
      for (const a of as) for (const b of bs) if (typedEq(a, b)) return true;
      return false;
    }
    const rightStrings: string[] = [];
    for (const b of bs) {
      const s = view(b);
      if (s !== undefined) rightStrings.push(s);
    }
    if (rightStrings.length === 0) return false;
    for (const a of as) {
      const s = view(a);
      if (s === undefined) continue;
      for (let i = 0; i < rightStrings.length; i++) if (rel(s, rightStrings[i]!)) return true;
    }
    return false;
  };
}
