/**
 * Value expressions (IR `ValueExpr`): compiled once per rule to closures over the canonical event.
 * (Being written: see the EQL work of issue 3.)
 */
import type { CanonicalEvent } from '../../event/types.js';
import type { ExprSemantics, FieldRef, ValueExpr } from '../../ir/types.js';
import type { Accessor } from '../../schema/index.js';

export type FieldAccessor = (f: FieldRef) => Accessor;

/** Compile an expression to a function giving its value for an event (null for null/missing). */
export function compileExpr(_e: ValueExpr, _field: FieldAccessor, _semantics: ExprSemantics = 'elasticsearch'): (ev: CanonicalEvent) => unknown {
  throw new Error('computed EQL expressions are not supported yet');
}
