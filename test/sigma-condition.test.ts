import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RuleError } from '../src/dialects/errors.js';
import { parseSigmaText } from '../src/dialects/sigma/index.js';
import { ConditionError, parseCondition, selectIdentifiers } from '../src/dialects/sigma/condition.js';
import { compilePredicate } from '../src/engine/predicate/index.js';
import type { CanonicalEvent, JsonObject } from '../src/event/types.js';
import type { Predicate } from '../src/ir/types.js';

function event(doc: JsonObject): CanonicalEvent {
  return { kind: 'okta', id: 'e1', time: 0, eventType: '', doc, origin: 'test', depth: 0, shape: 'okta', cache: new Map() };
}

/** Search identifiers a, b, c, sel_1, sel_2, filter_x, _hidden, each `<name>: '1'` on its own field. */
const SEARCHES = ['a', 'b', 'c', 'sel_1', 'sel_2', 'filter_x', '_hidden', 'and_filter'];

function ruleText(condition: string): string {
  const searches = SEARCHES.map((s) => `    ${s}:\n        ${s}: '1'`).join('\n');
  return `title: Condition test
id: c-1
logsource: {product: okta, service: okta}
detection:
${searches}
    condition: ${condition}
`;
}

/** Evaluates a condition over an event where exactly the named identifiers hold. */
function holds(condition: string, trueIds: string[]): boolean {
  const { rules } = parseSigmaText(ruleText(condition), 'c.yml');
  const p = (rules[0]!.stages[0] as { predicate: Predicate }).predicate;
  const doc: JsonObject = {};
  for (const id of trueIds) doc[id] = '1';
  return compilePredicate(p, { org: 't' })(event(doc));
}

test('and / or / not / parentheses', () => {
  assert.equal(holds('a and b', ['a', 'b']), true);
  assert.equal(holds('a and b', ['a']), false);
  assert.equal(holds('a or b', ['b']), true);
  assert.equal(holds('not a', []), true);
  assert.equal(holds('not a', ['a']), false);
  assert.equal(holds('(a or b) and c', ['a']), false);
  assert.equal(holds('(a or b) and c', ['b', 'c']), true);
  assert.equal(holds('a AND NOT b', ['a']), true, 'operators are case-insensitive');
});

test('precedence: or < and < not < x of', () => {
  assert.equal(holds('a or b and c', ['a']), true, 'a or (b and c)');
  assert.equal(holds('a and b or c', ['c']), true, '(a and b) or c');
  assert.equal(holds('not a and b', ['b']), true, '(not a) and b');
  assert.equal(holds('not a and b', ['a', 'b']), false);
  assert.equal(holds('not a or b', ['a']), false, '(not a) or b');
  assert.equal(holds('a and not 1 of sel_*', ['a', 'sel_2']), false, 'not (1 of sel_*)');
  assert.equal(holds('a and not 1 of sel_*', ['a']), true);
  assert.equal(holds('not not a', ['a']), true);
});

test('1 of / any of / all of / N of with patterns', () => {
  assert.equal(holds('1 of sel_*', ['sel_2']), true);
  assert.equal(holds('any of sel_*', ['sel_1']), true);
  assert.equal(holds('1 of sel_*', ['a']), false);
  assert.equal(holds('all of sel_*', ['sel_1']), false);
  assert.equal(holds('all of sel_*', ['sel_1', 'sel_2']), true);
  assert.equal(holds('2 of them', ['a', 'c']), true);
  assert.equal(holds('2 of them', ['a']), false);
  assert.equal(holds('3 of *', ['a', 'b', 'sel_2']), true);
});

test('them excludes identifiers starting with _', () => {
  const all = SEARCHES.filter((s) => !s.startsWith('_'));
  assert.equal(holds('all of them', all), true, '_hidden is not required');
  assert.equal(holds('1 of them', ['_hidden']), false, '_hidden does not count');
  assert.equal(holds('1 of _*', ['_hidden']), true, 'a pattern starting with _ selects it');
  assert.deepEqual(selectIdentifiers('*', false, ['a', '_b', 'c']), ['a', 'c']);
  assert.deepEqual(selectIdentifiers('_*', false, ['a', '_b', 'c']), ['_b']);
  assert.deepEqual(selectIdentifiers('', true, ['a', '_b', 'c']), ['a', 'c']);
  assert.deepEqual(selectIdentifiers('sel*_1', false, ['sel_1', 'select_1', 'sel_2', 'xsel_1']), ['sel_1', 'select_1']);
});

test('keywords are atomic: and_filter is an identifier', () => {
  assert.equal(holds('a and and_filter', ['a', 'and_filter']), true);
  assert.equal(holds('a and and_filter', ['a']), false);
  assert.deepEqual(parseCondition('a and and_filter'), {
    type: 'and',
    args: [
      { type: 'ref', name: 'a', offset: 0 },
      { type: 'ref', name: 'and_filter', offset: 6 },
    ],
  });
});

test('a list of conditions is OR-linked', () => {
  const text = ruleText('x').replace('    condition: x', '    condition:\n        - a and b\n        - c');
  const { rules } = parseSigmaText(text, 'c.yml');
  const m = compilePredicate((rules[0]!.stages[0] as { predicate: Predicate }).predicate, { org: 't' });
  assert.equal(m(event({ c: '1' })), true);
  assert.equal(m(event({ a: '1', b: '1' })), true);
  assert.equal(m(event({ a: '1' })), false);
});

test('parser AST and syntax errors with offsets', () => {
  assert.deepEqual(parseCondition('1 of sel* or not (a)'), {
    type: 'or',
    args: [
      { type: 'of', quantifier: 1, target: 'sel*', them: false, offset: 5 },
      { type: 'not', arg: { type: 'ref', name: 'a', offset: 18 } },
    ],
  });
  assert.deepEqual(parseCondition('all of them'), { type: 'of', quantifier: 'all', target: 'them', them: true, offset: 7 });
  const err = (text: string, offset: number, pattern: RegExp) =>
    assert.throws(
      () => parseCondition(text),
      (e: unknown) => e instanceof ConditionError && e.offset === offset && pattern.test(e.message),
    );
  err('a and', 5, /expected a search identifier but found end of condition/);
  err('(a or b', 7, /expected '\)'/);
  err('a b', 2, /unexpected 'b'/);
  err('sel*', 0, /is a pattern/);
  err('0 of sel*', 0, /at least 1/);
  err('a & b', 2, /unexpected character '&'/);
  err('', 0, /empty condition/);
  err('1 of and', 5, /after 'of'/);
});

test('unknown identifier is a RuleError naming it, at its position', () => {
  assert.throws(
    () => parseSigmaText(ruleText('a and not filter'), 'c.yml'),
    (e: unknown) =>
      e instanceof RuleError &&
      /unknown search identifier 'filter'/.test(e.message) &&
      e.line === 21 &&
      e.col === 26,
  );
  assert.throws(() => parseSigmaText(ruleText('1 of nothing_*'), 'c.yml'), /'nothing_\*' matches no search identifier/);
  assert.throws(() => parseSigmaText(ruleText('3 of sel_*'), 'c.yml'), /needs 3 search identifiers but only 2 match/);
  assert.throws(() => parseSigmaText(ruleText('a and ('), 'c.yml'), (e: unknown) => e instanceof RuleError && /invalid condition/.test(e.message));
});

test('Sigma 1.0 aggregation conditions are reported as unsupported', () => {
  const { rules, unsupported } = parseSigmaText(ruleText('a | count() by b > 5'), 'c.yml');
  assert.equal(rules.length, 0);
  assert.equal(unsupported.length, 1);
  assert.match(unsupported[0]!.reason, /aggregation/);
});
