/**
 * EQL: the grammar (both dialects), syntax errors with line/column/caret, and the translation
 * to IR under Elasticsearch and Python semantics. Independent of the engine.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  EqlQueryError,
  EqlSyntaxError,
  EqlUnsupportedError,
  MAX_NESTING,
  queryToStages,
  conditionToPredicate,
  eqlToStages,
  luceneRegexToRe2,
  parseEql,
  parseEqlExpression,
  type EqlToIrOptions,
  type Syntax,
} from '../src/dialects/elastic/eql/index.js';
import type { Predicate, SequenceStage, Stage, ValueExpr } from '../src/ir/types.js';

/** The tree without offsets. */
function strip<T>(x: T): T {
  return JSON.parse(JSON.stringify(x, (k, v) => (k === 'at' ? undefined : v))) as T;
}

const expr = (text: string, syntax: Syntax = 'elasticsearch') => strip(parseEqlExpression(text, { syntax }));
const query = (text: string, syntax: Syntax = 'elasticsearch') => strip(parseEql(text, { syntax }));

const f = (name: string, optional = false) => ({ kind: 'field', name, path: name.split('.'), optional });
const lit = (value: string | number | boolean | null) => ({ kind: 'literal', value });
const cmp = (op: string, left: unknown, right: unknown) => ({ kind: 'compare', op, left, right });

const ES: EqlToIrOptions = { syntax: 'elasticsearch', schema: 'ecs', categoryField: 'event.category', windowMs: 300_000 };
const PY: EqlToIrOptions = { syntax: 'python', schema: 'okta', categoryField: 'event_type', caseInsensitive: true, windowMs: Infinity };

const where = (text: string, options: EqlToIrOptions = ES): Predicate =>
  conditionToPredicate(parseEqlExpression(text, { syntax: options.syntax ?? 'elasticsearch' }), options);
const stages = (text: string, options: EqlToIrOptions = ES): Stage[] => eqlToStages(text, options).stages;

const ecs = (name: string) => ({ name, schema: 'ecs' as const });
const TYPED = { caseSensitive: true, coerce: 'typed' as const };
const vfield = (name: string, schema: 'ecs' | 'okta' = 'ecs'): ValueExpr => ({ type: 'field', field: { name, schema } });

/* ------------------------------------------------------------------------------------------ */
/* Grammar                                                                                     */
/* ------------------------------------------------------------------------------------------ */

test('event query: category, any, quoted category, where condition', () => {
  assert.deepEqual(query('process where process.name == "svchost.exe"'), {
    kind: 'event',
    query: { category: 'process', where: cmp('==', f('process.name'), lit('svchost.exe')) },
    pipes: [],
  });
  assert.equal((query('any where true') as { query: { category: unknown } }).query.category, null);
  assert.equal((query('"my-category" where true') as { query: { category: unknown } }).query.category, 'my-category');
  assert.equal((query('"""my.category""" where true') as { query: { category: unknown } }).query.category, 'my.category');
});

test('boolean precedence: not > and > or; not applies to a whole comparison', () => {
  assert.deepEqual(expr('a == 1 or b == 2 and not c == 3'), {
    kind: 'or',
    args: [cmp('==', f('a'), lit(1)), { kind: 'and', args: [cmp('==', f('b'), lit(2)), { kind: 'not', arg: cmp('==', f('c'), lit(3)) }] }],
  });
  assert.deepEqual(expr('not (a or b) and c'), {
    kind: 'and',
    args: [{ kind: 'not', arg: { kind: 'or', args: [f('a'), f('b')] } }, f('c')],
  });
  assert.deepEqual(expr('not not a'), { kind: 'not', arg: { kind: 'not', arg: f('a') } });
});

test('arithmetic: * / % before + -, left-associative, unary minus (folded into numbers)', () => {
  assert.deepEqual(expr('a + b * -c % 2 - 1 > -1.5'), cmp(
    '>',
    {
      kind: 'arith',
      op: '-',
      left: { kind: 'arith', op: '+', left: f('a'), right: { kind: 'arith', op: '%', left: { kind: 'arith', op: '*', left: f('b'), right: { kind: 'neg', arg: f('c') } }, right: lit(2) } },
      right: lit(1),
    },
    lit(-1.5),
  ));
  assert.deepEqual(expr('(a + b) / 2 <= 3'), cmp('<=', { kind: 'arith', op: '/', left: { kind: 'arith', op: '+', left: f('a'), right: f('b') }, right: lit(2) }, lit(3)));
  for (const op of ['==', '!=', '<', '<=', '>', '>=']) assert.equal((expr(`a ${op} 1`) as { op: string }).op, op);
});

test('literals: integers, decimals, exponents, null, booleans', () => {
  assert.deepEqual(expr('f in (1, 2.5, .5, 1e3, 2.5E-2, null, true, false)'), {
    kind: 'in',
    arg: f('f'),
    values: [lit(1), lit(2.5), lit(0.5), lit(1000), lit(0.025), lit(null), lit(true), lit(false)],
    insensitive: false,
    negated: false,
  });
});

test('strings: escapes, \\u{...}, raw triple-quoted strings', () => {
  assert.deepEqual(expr('f == "a\\"b\\\\c\\n\\t\\r"'), cmp('==', f('f'), lit('a"b\\c\n\t\r')));
  assert.deepEqual(expr('f == "rlm\\u{200f} smile\\u{1F600} \\u{0000200F}"'), cmp('==', f('f'), lit('rlm\u200f smile\u{1F600} \u200f')));
  assert.deepEqual(expr('f == """C:\\Windows\\ "quoted" """'), cmp('==', f('f'), lit('C:\\Windows\\ "quoted" ')));
  assert.deepEqual(expr('f == """ends with a quote""""'), cmp('==', f('f'), lit('ends with a quote"')));
});

test('field names: dotted, `escaped`, ?optional, array indexes, @timestamp', () => {
  assert.deepEqual(expr('`my-field`.`a``b` == 1'), cmp('==', { kind: 'field', name: 'my-field.a`b', path: ['my-field', 'a`b'], optional: false }, lit(1)));
  assert.deepEqual(expr('?user.id != null'), cmp('!=', f('user.id', true), lit(null)));
  assert.deepEqual(expr('a[0].b[12] == 1'), cmp('==', { kind: 'field', name: 'a[0].b[12]', path: ['a', 0, 'b', 12], optional: false }, lit(1)));
  assert.deepEqual(expr('@timestamp > 0'), cmp('>', f('@timestamp'), lit(0)));
  // A keyword is a name inside a dotted path.
  assert.deepEqual(expr('process.in == 1'), cmp('==', f('process.in'), lit(1)));
});

test('comments are whitespace', () => {
  assert.deepEqual(query('process /* inline */ where // to the end of the line\n  a == 1 // last'), query('process where a == 1'));
});

test('lookups: in, in~, not in, not in~', () => {
  const base = { kind: 'in', arg: f('f'), values: [lit('a'), lit('B')] };
  assert.deepEqual(expr('f in ("a", "B")'), { ...base, insensitive: false, negated: false });
  assert.deepEqual(expr('f in~ ("a", "B")'), { ...base, insensitive: true, negated: false });
  assert.deepEqual(expr('f not in ("a", "B")'), { ...base, insensitive: false, negated: true });
  assert.deepEqual(expr('f not in~ ("a", "B")'), { ...base, insensitive: true, negated: true });
});

test('pattern operators: `:` (single and list), like, like~, regex, regex~', () => {
  const m = (op: string, insensitive: boolean, ...p: string[]) => ({ kind: 'match', op, insensitive, arg: f('f'), patterns: p.map(lit) });
  assert.deepEqual(expr('f : "a*"'), m(':', true, 'a*'));
  assert.deepEqual(expr('f : ("a*", "b")'), m(':', true, 'a*', 'b'));
  assert.deepEqual(expr('f like "A?"'), m('like', false, 'A?'));
  assert.deepEqual(expr('f like~ ("a*", "b")'), m('like', true, 'a*', 'b'));
  assert.deepEqual(expr('f regex "[a-z]+"'), m('regex', false, '[a-z]+'));
  assert.deepEqual(expr('f regex~ ("x.*", "y")'), m('regex', true, 'x.*', 'y'));
});

test('function calls and case-insensitive function calls', () => {
  assert.deepEqual(expr('startsWith~(process.name, "cmd") and length(x) > 0'), {
    kind: 'and',
    args: [
      { kind: 'call', name: 'startsWith', args: [f('process.name'), lit('cmd')], insensitive: true },
      cmp('>', { kind: 'call', name: 'length', args: [f('x')], insensitive: false }, lit(0)),
    ],
  });
  assert.deepEqual(expr('concat()'), { kind: 'call', name: 'concat', args: [], insensitive: false });
});

test('sequence: by, with maxspan (either order), clause by, runs, missing events, until', () => {
  const q = query(`sequence by user.name with maxspan=30m
    [any where a == 1] by x, y with runs=3
    ![authentication where b == 2]
    [any where c == 3]
  until [any where d == 4] by z
  | head 5 | tail 2`) as Record<string, unknown>;
  assert.equal(q['kind'], 'sequence');
  assert.deepEqual(q['by'], [f('user.name')]);
  assert.deepEqual(q['maxspan'], { value: 30, unit: 'm', ms: 1_800_000 });
  const subs = q['subqueries'] as Record<string, unknown>[];
  assert.equal(subs.length, 3);
  assert.deepEqual(subs[0], { query: { category: null, where: cmp('==', f('a'), lit(1)) }, missing: false, by: [f('x'), f('y')], runs: 3 });
  assert.deepEqual(subs[1], { query: { category: 'authentication', where: cmp('==', f('b'), lit(2)) }, missing: true, by: [] });
  assert.deepEqual(q['until'], { query: { category: null, where: cmp('==', f('d'), lit(4)) }, missing: false, by: [f('z')] });
  assert.deepEqual(q['pipes'], [
    { name: 'head', args: [lit(5)] },
    { name: 'tail', args: [lit(2)] },
  ]);
  const other = query('sequence with maxspan=500ms by k [any where true] [any where true]') as Record<string, unknown>;
  assert.deepEqual(other['by'], [f('k')]);
  assert.deepEqual(other['maxspan'], { value: 500, unit: 'ms', ms: 500 });
  for (const [span, ms] of [['10s', 10_000], ['2h', 7_200_000], ['1d', 86_400_000], ['1.5m', 90_000]] as const) {
    assert.equal((query(`sequence with maxspan=${span} [any where true] [any where true]`) as { maxspan: { ms: number } }).maxspan.ms, ms);
  }
  // One clause repeated by runs is a sequence of two or more.
  assert.equal((query('sequence by k [any where true] with runs=5') as { subqueries: unknown[] }).subqueries.length, 1);
});

test('sample by k [...] [...]', () => {
  assert.deepEqual(query('sample by host [file where true] [process where a == 1]'), {
    kind: 'sample',
    by: [f('host')],
    subqueries: [
      { query: { category: 'file', where: lit(true) }, missing: false, by: [] },
      { query: { category: 'process', where: cmp('==', f('a'), lit(1)) }, missing: false, by: [] },
    ],
    pipes: [],
  });
});

test('a key followed by a clause is not an array index: `by pid [process ...]`', () => {
  const q = query('sequence by pid [process where true] [file where true]') as { by: unknown[]; subqueries: unknown[] };
  assert.deepEqual(q.by, [f('pid')]);
  assert.equal(q.subqueries.length, 2);
});

test('Python syntax: single quotes, =, ?"raw", methods, space-separated pipe arguments, join, lineage, fork', () => {
  assert.deepEqual(expr("a = 'x\\'y'", 'python'), cmp('==', f('a'), lit("x'y")));
  assert.deepEqual(expr('m == ?"C:\\w+\\"q"', 'python'), cmp('==', f('m'), lit('C:\\w+\\"q')));
  assert.deepEqual(expr("m == ?'\\s+'", 'python'), cmp('==', f('m'), lit('\\s+')));
  assert.deepEqual(expr('a:length() > 2', 'python'), cmp('>', { kind: 'method', name: 'length', target: f('a'), args: [] }, lit(2)));
  assert.deepEqual(expr('a : "x*"', 'python'), { kind: 'match', op: ':', insensitive: true, arg: f('a'), patterns: [lit('x*')] });
  const sorted = query('process where true | head 5 | sort md5 event_subtype_full, null_field process_name | count', 'python') as { pipes: unknown[] };
  assert.deepEqual(sorted.pipes, [
    { name: 'head', args: [lit(5)] },
    { name: 'sort', args: [f('md5'), f('event_subtype_full'), f('null_field'), f('process_name')] },
    { name: 'count', args: [] },
  ]);
  assert.equal((query('join by user_name [process where true] [file where true] until [file where true]', 'python') as { kind: string }).kind, 'join');
  assert.deepEqual(expr('descendant of [process where name == "cmd.exe"]', 'python'), {
    kind: 'of',
    relation: 'descendant',
    query: { category: 'process', where: cmp('==', f('name'), lit('cmd.exe')) },
  });
  const forked = query('sequence [process where true] by a [file where true] fork=true by b', 'python') as { subqueries: { fork?: boolean }[] };
  assert.equal(forked.subqueries[1]!.fork, true);
  // Without `category where`, a Python event query is an `any` query.
  assert.deepEqual(query('a == 1', 'python'), { kind: 'event', query: { category: null, where: cmp('==', f('a'), lit(1)) }, pipes: [] });
});

/* ------------------------------------------------------------------------------------------ */
/* Syntax errors                                                                               */
/* ------------------------------------------------------------------------------------------ */

function syntaxError(text: string, syntax: Syntax = 'elasticsearch'): EqlSyntaxError {
  try {
    parseEql(text, { syntax });
  } catch (e) {
    assert.ok(e instanceof EqlSyntaxError, `expected EqlSyntaxError, got ${String(e)}`);
    return e;
  }
  assert.fail(`no error for ${text}`);
}

test('syntax errors carry reason, offset, line, column and a caret excerpt', () => {
  const e = syntaxError('sequence by user.name with maxspan=30x\n  [any where true]\n  [any where true]');
  assert.equal(e.reason, "unknown time unit 'x' (ms, s, m, h or d)");
  assert.equal(e.offset, 37);
  assert.equal(e.line, 1);
  assert.equal(e.column, 38);
  assert.equal(e.excerpt, 'sequence by user.name with maxspan=30x\n-------------------------------------^');
  assert.match(e.message, /^unknown time unit 'x' \(ms, s, m, h or d\) \(line 1, column 38\)\n/);

  const multi = syntaxError('sequence by user.name\n  [any where a == 1]\n  [any where b == ]');
  assert.equal(multi.line, 3);
  assert.equal(multi.column, 19);
  assert.equal(multi.excerpt, '  [any where b == ]\n------------------^');
  assert.match(multi.reason, /^expected a value .*found '\]'$/);
});

test('a dozen broken queries: each error names the problem at the right place', () => {
  const cases: [string, RegExp, number, Syntax?][] = [
    ['process where', /expected a value .* found the end of the query/, 13],
    ['process where a = 1', /'=' is not supported as an equal operator/, 16],
    ["process where a == 'x'", /single-quoted strings are not supported/, 19],
    ['process where a == ?"x"', /raw strings are not supported in Elasticsearch EQL/, 19],
    ['process where a == "abc', /unterminated string/, 19],
    ['process where a == "\\q"', /invalid escape sequence \\q/, 20],
    ['process where a == "\\u{12}" or b == "\\u{zz}"', /unicode escape/, 37],
    ['process where a < b < c', /comparisons cannot be chained/, 20],
    ['process where a !: "x"', /'!:' is not an Elasticsearch EQL operator/, 16],
    ['process where a : b', /expected a string \(pattern\)/, 18],
    ['process where a == 1 b == 2', /expected an operator, '\|' or the end of the query, found 'b'/, 21],
    ['process a == 1', /expected 'where'/, 8],
    ['sequence [any where true]', /at least two clauses/, 0],
    ['sequence [any where a == 1] ![any where b == 1]', /missing events .* need `with maxspan`/, 28],
    ['sequence with maxspan=10 [any where true] [any where true]', /maxspan needs a time unit/, 24],
    ['sequence [any where true] with runs=0 [any where true]', /runs must be between 1 and 100/, 36],
    ['sequence [any where true] with runs=101', /runs must be between 1 and 100/, 36],
    ['sample by h [any where true] ![any where true]', /only allowed in a sequence/, 29],
    ['any where true | unknown 3', /unknown pipe 'unknown'/, 17],
    ['any where true | head -1', /\| head takes one non-negative integer/, 22],
    ['any where true | head', /\| head takes one non-negative integer/, 17],
    ['/* never closed', /unterminated \/\* comment/, 0],
    ['any where f(a, ', /expected a value/, 15],
    ['any where `unclosed == 1', /unterminated `escaped` field name/, 10],
    ['any where a == 1 ]', /found '\]'/, 17],
    ['', /empty query/, 0],
  ];
  for (const [text, reason, offset, syntax] of cases) {
    const e = syntaxError(text, syntax);
    assert.match(e.reason, reason, text);
    assert.equal(e.offset, offset, `${text}: ${e.message}`);
    assert.equal(e.column, offset + 1);
    assert.ok(e.excerpt.endsWith(`${'-'.repeat(offset)}^`), text);
  }
});

test('Python-only forms are errors in Elasticsearch syntax and accepted in Python syntax', () => {
  for (const q of ["process where a == 'x'", 'process where a = 1', 'process where a == ?"x"']) {
    syntaxError(q);
    parseEql(q, { syntax: 'python' });
  }
  syntaxError('sequence [process where true] fork [file where true]');
});

/* ------------------------------------------------------------------------------------------ */
/* Translation: Elasticsearch semantics                                                        */
/* ------------------------------------------------------------------------------------------ */

test('ES: == / != / null / ordering against literals become compare predicates', () => {
  assert.deepEqual(where('okta.event_type == "user.session.start"'), { type: 'compare', field: ecs('okta.event_type'), op: 'eq', values: ['user.session.start'], options: TYPED });
  // != is must_not term: a missing field matches.
  assert.deepEqual(where('kibana.alert.severity != "low"'), { type: 'not', arg: { type: 'compare', field: ecs('kibana.alert.severity'), op: 'eq', values: ['low'], options: TYPED } });
  assert.deepEqual(where('a == null'), { type: 'null', field: ecs('a') });
  assert.deepEqual(where('?a != null'), { type: 'exists', field: ecs('a'), nullIsMissing: true });
  assert.deepEqual(where('null != a'), { type: 'exists', field: ecs('a'), nullIsMissing: true });
  assert.deepEqual(where('n >= 5'), { type: 'compare', field: ecs('n'), op: 'gte', values: [5], options: TYPED });
  // A literal on the left flips the operator.
  assert.deepEqual(where('5 < n'), { type: 'compare', field: ecs('n'), op: 'gt', values: [5], options: TYPED });
  assert.deepEqual(where('b == true'), { type: 'compare', field: ecs('b'), op: 'eq', values: [true], options: TYPED });
});

test('ES: in / in~ / not in, and / or / not / true / false', () => {
  assert.deepEqual(where('f in ("a", "b") and not g in~ ("X") or false'), {
    type: 'or',
    args: [
      {
        type: 'and',
        args: [
          { type: 'compare', field: ecs('f'), op: 'eq', values: ['a', 'b'], options: TYPED },
          { type: 'not', arg: { type: 'compare', field: ecs('g'), op: 'eq', values: ['X'], options: { caseSensitive: false, coerce: 'typed' } } },
        ],
      },
      { type: 'const', value: false },
    ],
  });
  assert.deepEqual(where('f not in (1, 2)'), { type: 'not', arg: { type: 'compare', field: ecs('f'), op: 'eq', values: [1, 2], options: TYPED } });
});

test('ES: `:` is case-insensitive eq, or wildcard when a pattern has * or ?; like / like~', () => {
  const ci = { caseSensitive: false, coerce: 'typed' as const };
  assert.deepEqual(where('f : "abc"'), { type: 'compare', field: ecs('f'), op: 'eq', values: ['abc'], options: ci });
  assert.deepEqual(where('f : "a*"'), { type: 'compare', field: ecs('f'), op: 'wildcard', values: ['a*'], options: ci });
  assert.deepEqual(where('f : ("user.session.start", "user.authentication*", "a?c")'), {
    type: 'or',
    args: [
      { type: 'compare', field: ecs('f'), op: 'eq', values: ['user.session.start'], options: ci },
      { type: 'compare', field: ecs('f'), op: 'wildcard', values: ['user.authentication*', 'a?c'], options: ci },
    ],
  });
  assert.deepEqual(where('f like "A*"'), { type: 'compare', field: ecs('f'), op: 'wildcard', values: ['A*'], options: TYPED });
  assert.deepEqual(where('f like~ "A*"'), { type: 'compare', field: ecs('f'), op: 'wildcard', values: ['A*'], options: ci });
});

test('ES: regex / regex~ become anchored RE2 patterns (Lucene whole-value syntax)', () => {
  assert.deepEqual(where('f regex "ab+[0-9]{2}"'), { type: 'compare', field: ecs('f'), op: 'regex', values: ['^(?:ab+[0-9]{2})$'], options: { flags: 's' } });
  assert.deepEqual(where('f regex~ ("a.*", "b")'), { type: 'compare', field: ecs('f'), op: 'regex', values: ['^(?:a.*)$', '^(?:b)$'], options: { flags: 'si' } });
  // ^ and $ are literal in Lucene; \d stays a class; a backslash before a letter is that letter.
  assert.equal(luceneRegexToRe2('^a$\\d\\q'), '^(?:\\^a\\$\\dq)$');
  assert.equal(luceneRegexToRe2('[^a$]'), '^(?:[^a$])$');
  assert.throws(() => luceneRegexToRe2('a<1-5>'), (e: unknown) => e instanceof EqlUnsupportedError && e.construct === 'regex operator <');
  assert.throws(() => where('f regex "(a"'), EqlUnsupportedError);
});

test('ES: functions, arithmetic and field-to-field comparisons become expr leaves', () => {
  assert.deepEqual(where('endsWith~(process.name, ".EXE")'), {
    type: 'expr',
    expr: { type: 'call', fn: 'endsWith', args: [vfield('process.name'), { type: 'literal', value: '.EXE' }], caseInsensitive: true },
    semantics: 'elasticsearch',
  });
  assert.deepEqual(where('a + 1 > b'), {
    type: 'expr',
    expr: { type: 'compare', op: 'gt', left: { type: 'arith', op: '+', left: vfield('a'), right: { type: 'literal', value: 1 } }, right: vfield('b') },
    semantics: 'elasticsearch',
  });
  // Function names are canonicalised (Elasticsearch resolves them case-insensitively).
  assert.deepEqual(where('cidrmatch(source.ip, "10.0.0.0/8")'), {
    type: 'expr',
    expr: { type: 'call', fn: 'cidrMatch', args: [vfield('source.ip'), { type: 'literal', value: '10.0.0.0/8' }] },
    semantics: 'elasticsearch',
  });
  // Mixed: the parts that are field-vs-literal stay predicates.
  const mixed = where('a == "x" and length(b) > 3');
  assert.equal(mixed.type, 'and');
  assert.equal((mixed as { args: Predicate[] }).args[0]!.type, 'compare');
  assert.equal((mixed as { args: Predicate[] }).args[1]!.type, 'expr');
  // An indexed field is not a plain field: expr.
  assert.equal(where('a[0] == "x"').type, 'expr');
  // A regex inside an expression is anchored too.
  assert.deepEqual(where('not (length(a) > 1 and a regex "x")'), {
    type: 'not',
    arg: {
      type: 'and',
      args: [
        { type: 'expr', expr: { type: 'compare', op: 'gt', left: { type: 'call', fn: 'length', args: [vfield('a')] }, right: { type: 'literal', value: 1 } }, semantics: 'elasticsearch' },
        { type: 'compare', field: ecs('a'), op: 'regex', values: ['^(?:x)$'], options: { flags: 's' } },
      ],
    },
  });
});

test('ES: category, event query stages, pipes with the rule window', () => {
  assert.deepEqual(stages('process where a == 1 | head 3 | tail 1'), [
    { type: 'filter', predicate: { type: 'and', args: [{ type: 'compare', field: ecs('event.category'), op: 'eq', values: ['process'], options: TYPED }, { type: 'compare', field: ecs('a'), op: 'eq', values: [1], options: TYPED }] } },
    { type: 'pipe', pipe: 'head', n: 3, windowMs: 300_000, semantics: 'elasticsearch' },
    { type: 'pipe', pipe: 'tail', n: 1, windowMs: 300_000, semantics: 'elasticsearch' },
  ]);
  assert.deepEqual(stages('any where true'), [{ type: 'filter', predicate: { type: 'const', value: true } }]);
  assert.deepEqual(stages('iam where true', { ...ES, categoryField: 'okta.event_category' }), [
    { type: 'filter', predicate: { type: 'compare', field: ecs('okta.event_category'), op: 'eq', values: ['iam'], options: TYPED } },
  ]);
});

test('ES: sequence stages: head filter = OR of clauses and until; keys, maxspan, runs, missing', () => {
  const s = stages(`sequence by user.name, ?okta.actor.id with maxspan=10m
      [any where a == 1] by x with runs=2
      ![any where b == 2] by x
    until [any where c == 3] by y`);
  const A = { type: 'compare', field: ecs('a'), op: 'eq', values: [1], options: TYPED } as Predicate;
  const B = { type: 'compare', field: ecs('b'), op: 'eq', values: [2], options: TYPED } as Predicate;
  const C = { type: 'compare', field: ecs('c'), op: 'eq', values: [3], options: TYPED } as Predicate;
  assert.deepEqual(s, [
    { type: 'filter', predicate: { type: 'or', args: [A, B, C] } },
    {
      type: 'sequence',
      by: [vfield('user.name'), { type: 'field', field: ecs('okta.actor.id'), optional: true }],
      steps: [
        { predicate: A, by: [vfield('x')], runs: 2 },
        { predicate: B, by: [vfield('x')], missing: true },
      ],
      semantics: 'elasticsearch',
      maxspanMs: 600_000,
      until: { predicate: C, by: [vfield('y')] },
    },
  ]);
});

test('ES: sample stages', () => {
  const s = stages('sample by host.name [authentication where true] [any where a == 1]');
  assert.equal(s.length, 2);
  assert.deepEqual(s[1], {
    type: 'sample',
    by: [vfield('host.name')],
    steps: [
      { predicate: { type: 'compare', field: ecs('event.category'), op: 'eq', values: ['authentication'], options: TYPED } },
      { predicate: { type: 'compare', field: ecs('a'), op: 'eq', values: [1], options: TYPED } },
    ],
    semantics: 'elasticsearch',
  });
});

test('ES: what Elasticsearch EQL refuses is unsupported, by name', () => {
  const unsupported = (q: string, construct: string, options = ES) => {
    assert.throws(
      () => eqlToStages(q, options),
      (e: unknown) => e instanceof EqlUnsupportedError && e.construct === construct && /not supported/.test(e.message),
      q,
    );
  };
  for (const pipe of ['filter a == 1', 'unique a', 'unique_count a', 'count', 'sort a']) {
    unsupported(`any where true | ${pipe}`, `| ${pipe.split(' ')[0]}`);
  }
  unsupported('join [any where true] [any where true]', 'join');
  unsupported('any where arraySearch(a, x, x == 1)', 'function arraySearch');
  // An unknown function is an invalid query (EqlQueryError), not an unsupported one: see below.
});

/* ------------------------------------------------------------------------------------------ */
/* Translation: Python semantics                                                               */
/* ------------------------------------------------------------------------------------------ */

test('Python: the whole where clause is one expr leaf, case-folded when asked', () => {
  assert.deepEqual(stages("process where process_name == 'CMD.exe' and not pid in (1, 2)", PY), [
    {
      type: 'filter',
      predicate: {
        type: 'and',
        args: [
          { type: 'compare', field: { name: 'event_type', schema: 'okta' }, op: 'eq', values: ['process'], options: TYPED },
          {
            type: 'expr',
            expr: {
              type: 'and',
              args: [
                { type: 'compare', op: 'eq', left: vfield('process_name', 'okta'), right: { type: 'literal', value: 'CMD.exe' }, caseInsensitive: true },
                { type: 'not', arg: { type: 'in', arg: vfield('pid', 'okta'), values: [{ type: 'literal', value: 1 }, { type: 'literal', value: 2 }], caseInsensitive: true } },
              ],
            },
            semantics: 'python',
          },
        ],
      },
    },
  ]);
  // Case-sensitive run: no folding flags.
  const sensitive = where('a == "X"', { ...PY, caseInsensitive: false });
  assert.deepEqual(sensitive, { type: 'expr', expr: { type: 'compare', op: 'eq', left: vfield('a', 'okta'), right: { type: 'literal', value: 'X' } }, semantics: 'python' });
});

test('Python: == with a * in a string is a wildcard match; != its negation; methods are calls', () => {
  assert.deepEqual(where('file_name == "*.exe"', PY), {
    type: 'expr',
    expr: { type: 'match', op: 'wildcard', arg: vfield('file_name', 'okta'), patterns: [{ type: 'literal', value: '*.exe' }], caseInsensitive: true },
    semantics: 'python',
  });
  assert.deepEqual(where('"*.exe" != file_name', PY), {
    type: 'expr',
    expr: { type: 'not', arg: { type: 'match', op: 'wildcard', arg: vfield('file_name', 'okta'), patterns: [{ type: 'literal', value: '*.exe' }], caseInsensitive: true } },
    semantics: 'python',
  });
  assert.deepEqual(where('a:length() == 3', PY), {
    type: 'expr',
    expr: { type: 'compare', op: 'eq', left: { type: 'call', fn: 'length', args: [vfield('a', 'okta')], caseInsensitive: true }, right: { type: 'literal', value: 3 }, caseInsensitive: true },
    semantics: 'python',
  });
  // Python regexes are passed as written (the evaluator applies Python's match()).
  const re = where("a regex? 'x'".replace('?', ''), PY) as { expr: { patterns: ValueExpr[] } };
  assert.deepEqual(re.expr.patterns, [{ type: 'literal', value: 'x' }]);
});

test('Python: sequences fold join keys; pipes keep filter/unique/count/sort with semantics python', () => {
  const s = stages('sequence by user_name [process where true] by pid [file where true] by ppid | unique pid | filter events[0].pid > 1 | count | head', PY);
  assert.equal(s[0]!.type, 'filter');
  const seq = s[1] as SequenceStage;
  assert.equal(seq.caseInsensitiveKeys, true);
  assert.equal(seq.semantics, 'python');
  assert.equal(seq.maxspanMs, undefined);
  assert.deepEqual(s.slice(2), [
    { type: 'pipe', pipe: 'unique', keys: [vfield('pid', 'okta')], windowMs: Infinity, semantics: 'python', caseInsensitive: true },
    {
      type: 'pipe',
      pipe: 'filter',
      predicate: { type: 'expr', expr: { type: 'compare', op: 'gt', left: vfield('events[0].pid', 'okta'), right: { type: 'literal', value: 1 }, caseInsensitive: true }, semantics: 'python' },
      windowMs: Infinity,
      semantics: 'python',
      caseInsensitive: true,
      // `events[0].pid` after a sequence: the first event of the result (Python's query_multiple_events).
      resultEvents: true,
    },
    { type: 'pipe', pipe: 'count', keys: [], windowMs: Infinity, semantics: 'python', caseInsensitive: true },
    { type: 'pipe', pipe: 'head', n: 50, windowMs: Infinity, semantics: 'python', caseInsensitive: true },
  ]);
});

test('Python: join, lineage and fork parse but are unsupported by name', () => {
  const construct = (q: string) => {
    try {
      eqlToStages(q, PY);
    } catch (e) {
      assert.ok(e instanceof EqlUnsupportedError);
      return e.construct;
    }
    return undefined;
  };
  assert.equal(construct('join by a [process where true] [file where true]'), 'join');
  assert.equal(construct('process where descendant of [process where name == "cmd.exe"]'), 'descendant of');
  assert.equal(construct('process where a == 1 and not child of [file where true]'), 'child of');
  assert.equal(construct('file where event of [process where true] | unique pid'), 'event of');
  assert.equal(construct('sequence [process where true] [file where true] fork=true'), 'fork');
  // Python-only functions are kept in Python mode.
  assert.equal(construct('registry where arraySearch(list, a, a == "x")'), undefined);
});

test('nesting is bounded: a syntax error at the token going over MAX_NESTING, no stack overflow', () => {
  const parens = (n: number) => 'any where ' + '('.repeat(n) + 'true' + ')'.repeat(n);
  parseEql(parens(MAX_NESTING));
  const deep: [string, number][] = [
    [parens(MAX_NESTING + 1), 'any where '.length + MAX_NESTING],
    [parens(5000), 'any where '.length + MAX_NESTING],
    ['any where ' + 'not '.repeat(10_000) + 'true', 'any where '.length + 4 * MAX_NESTING],
    ['any where a == ' + '-'.repeat(10_000) + 'b', 'any where a == '.length + MAX_NESTING],
    // A flat chain builds a left-deep tree: each operator is one level.
    ['any where 1' + ' + 1'.repeat(20_000) + ' > 0', 'any where 1'.length + 4 * MAX_NESTING + 1],
    // Function arguments: the argument that goes over.
    ['any where ' + 'length('.repeat(300) + 'a' + ')'.repeat(300) + ' > 0', 'any where '.length + 'length('.length * (MAX_NESTING + 1)],
  ];
  for (const [q, offset] of deep) {
    assert.throws(
      () => parseEql(q),
      (e: unknown) => e instanceof EqlSyntaxError && e.offset === offset && /nested too deeply/.test(e.reason) && e.line === 1,
      q.slice(0, 40),
    );
  }
  // Long flat and/or lists stay flat (n-ary), whatever their length.
  const ands = parseEql('any where ' + Array.from({ length: 20_000 }, (_, i) => `a == ${i}`).join(' and '));
  assert.equal(ands.kind === 'event' && ands.query.where.kind === 'and' && ands.query.where.args.length, 20_000);
});

test('invalid queries (unknown function, arity, join key counts) are EqlQueryError at their place', () => {
  const opts: EqlToIrOptions = { schema: 'ecs', categoryField: 'event.category' };
  const cases: [string, RegExp, string][] = [
    ['any where foo(a)', /unknown function foo\(\)/, 'foo('],
    ['any where startsWith(a)', /startsWith\(\) takes 2 arguments, got 1/, 'startsWith('],
    ['any where a == 1 and substring(a, 1, 2, 3) == "x"', /substring\(\) takes 2 to 3 arguments, got 4/, 'substring('],
    ['sequence by user.name [any where true] by source.ip [any where true]', /same number of join keys: expected 2, found 1/, '[any where true]\n'],
    ['sequence [any where true] by a [any where true] by a until [any where true]', /expected 1, found 0/, 'until ['],
    ['sample by a [any where true] by b [any where true]', /expected 2, found 1/, '[any where true]\n'],
  ];
  for (const [q, reason, at] of cases) {
    const text = q + '\n';
    const where = at === '[any where true]\n' ? text.lastIndexOf('[any where true]') : at === 'until [' ? text.indexOf(at) + 'until '.length : text.indexOf(at);
    assert.throws(() => queryToStages(parseEql(q), opts), (e: unknown) => e instanceof EqlQueryError && reason.test(e.message) && e.offset === where, q);
    // eqlToStages has the text: a syntax error with line and column.
    assert.throws(() => eqlToStages(q, opts), (e: unknown) => e instanceof EqlSyntaxError && e.offset === where && e.line === 1, q);
  }
});

test('Lucene regex: ?, * and + with nothing before them are literal (no inline flags such as (?i))', () => {
  assert.equal(luceneRegexToRe2('(?i)USER.*'), '^(?:(\\?i)USER.*)$');
  assert.equal(luceneRegexToRe2('*a|+b'), '^(?:\\*a|\\+b)$');
  assert.equal(luceneRegexToRe2('a?(b*)+'), '^(?:a?(b*)+)$', 'repeats after something stay repeats');
  const p = conditionToPredicate(parseEqlExpression('okta.event_type regex "(?i)USER.*"'), { schema: 'ecs', categoryField: 'event.category' });
  assert.deepEqual(p, { type: 'compare', field: { name: 'okta.event_type', schema: 'ecs' }, op: 'regex', values: ['^(?:(\\?i)USER.*)$'], options: { flags: 's' } });
});
