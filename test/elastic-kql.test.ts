/**
 * KQL: the grammar (Kibana's grammar.peggy), its translation to the IR and the compiled
 * predicates on Okta events seen through the ECS view of the Okta integration.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseKql, kqlPredicate, KqlSyntaxError, KqlUnsupportedError } from '../src/dialects/elastic/kql/index.js';
import { compilePredicate } from '../src/engine/predicate/index.js';
import type { JsonObject } from '../src/event/types.js';
import { oktaEvent } from './helpers.js';

const CTX = { org: 'duff.okta.com' };

/** Does the KQL query match the Okta LogEvent built from `over`? */
function matches(query: string, over: JsonObject = {}): boolean {
  return compilePredicate(kqlPredicate(query), CTX)(oktaEvent(over));
}

const proxy = (isProxy: unknown): JsonObject => ({ securityContext: { asNumber: 701, isp: 'tor', isProxy } as JsonObject });

/* ------------------------------------------------------------------------------------------ */
/* Grammar                                                                                     */
/* ------------------------------------------------------------------------------------------ */

const is = (field: string | null, value: string | boolean | null, quoted = false) => ({
  type: 'is',
  field: field === null ? null : { type: 'literal', value: field, quoted: false },
  value: { type: 'literal', value, quoted },
});

test('keywords are case-insensitive; NOT binds tighter than AND, AND tighter than OR; runs are n-ary', () => {
  assert.deepEqual(parseKql('a:1 or b:2 AND not c:3 and d:4 Or e:5'), {
    type: 'or',
    args: [
      is('a', '1'),
      { type: 'and', args: [is('b', '2'), { type: 'not', arg: is('c', '3') }, is('d', '4')] },
      is('e', '5'),
    ],
  });
  assert.deepEqual(parseKql('(a:1 or b:2) and c:3'), { type: 'and', args: [{ type: 'or', args: [is('a', '1'), is('b', '2')] }, is('c', '3')] });
});

test('whitespace is not an operator: an unquoted value runs to the next keyword and is trimmed', () => {
  assert.deepEqual(parseKql('foo:bar baz'), is('foo', 'bar baz'));
  assert.deepEqual(parseKql('  foo :  bar baz   and x:y '), { type: 'and', args: [is('foo', 'bar baz'), is('x', 'y')] });
  assert.deepEqual(parseKql('foo:orange'), is('foo', 'orange'), 'a keyword needs whitespace around it');
});

test('a value list distributes the field: field:(a or b and not c), nested groups', () => {
  assert.deepEqual(parseKql('f:(a or b and not c)'), {
    type: 'or',
    args: [is('f', 'a'), { type: 'and', args: [is('f', 'b'), { type: 'not', arg: is('f', 'c') }] }],
  });
  assert.deepEqual(parseKql('f:((a or b) and not c)'), {
    type: 'and',
    args: [{ type: 'or', args: [is('f', 'a'), is('f', 'b')] }, { type: 'not', arg: is('f', 'c') }],
  });
});

test('literals: true/false/null typed, numbers kept as strings, quoted values are phrases', () => {
  assert.deepEqual(parseKql('f:true'), is('f', true));
  assert.deepEqual(parseKql('f:null'), is('f', null));
  assert.deepEqual(parseKql('f:070'), is('f', '070'));
  assert.deepEqual(parseKql('f:"true"'), is('f', 'true', true));
  assert.deepEqual(parseKql('f:"a * b or c"'), is('f', 'a * b or c', true));
  assert.deepEqual(parseKql('f:ok*ta*'), { type: 'is', field: { type: 'literal', value: 'f', quoted: false }, value: { type: 'wildcard', parts: ['ok', 'ta', ''] } });
});

test('escapes: special characters, keywords, whitespace and unicode', () => {
  assert.deepEqual(parseKql('f:a\\:b\\(c\\)\\*\\"\\\\\\<\\>\\{\\}'), is('f', 'a:b(c)*"\\<>{}'));
  assert.deepEqual(parseKql('f:x \\or y'), is('f', 'x or y'));
  assert.deepEqual(parseKql('f:a\\tb\\nc\\rd'), is('f', 'a\tb\nc\rd'));
  assert.deepEqual(parseKql('f:\\u0041\\u00e9'), is('f', 'Aé'));
  assert.deepEqual(parseKql('f:"say \\"hi\\" \\u0041\\t\\d"'), is('f', 'say "hi" A\t\\d', true));
});

test('ranges, exists, nested, free text and the empty query', () => {
  const f = { type: 'literal', value: 'n', quoted: false };
  assert.deepEqual(parseKql('n < 5'), { type: 'range', field: f, op: 'lt', value: { type: 'literal', value: '5', quoted: false } });
  assert.deepEqual(parseKql('n>=5').type === 'range' && (parseKql('n>=5') as { op: string }).op, 'gte');
  assert.deepEqual(parseKql('n<=5').type === 'range' && (parseKql('n<=5') as { op: string }).op, 'lte');
  assert.deepEqual(parseKql('n > 5').type === 'range' && (parseKql('n > 5') as { op: string }).op, 'gt');
  assert.deepEqual(parseKql('f:*'), { type: 'is', field: { type: 'literal', value: 'f', quoted: false }, value: { type: 'wildcard', parts: ['', ''] } });
  assert.deepEqual(parseKql('p:{ a:1 }'), { type: 'nested', path: { type: 'literal', value: 'p', quoted: false }, query: is('a', '1') });
  assert.deepEqual(parseKql('hello world'), is(null, 'hello world'));
  assert.deepEqual(parseKql('   '), { type: 'match_all' });
});

test('syntax errors carry line, column and a caret line', () => {
  const cases: [string, number, number, RegExp][] = [
    ['foo:', 1, 5, /Expected "\(", "\{", value or whitespace but end of input found/],
    ['a:b and\n  c:(d or e', 2, 12, /Expected "\)", AND, OR or whitespace but end of input found/],
    ['x:\\q', 1, 3, /but "\\\\" found/],
    ['a:b c:d', 1, 6, /Expected AND, OR, end of input or whitespace but ":" found/],
    ['f < ', 1, 5, /literal/],
  ];
  for (const [query, line, column, message] of cases) {
    assert.throws(
      () => parseKql(query),
      (e: unknown) => {
        assert.ok(e instanceof KqlSyntaxError, query);
        assert.equal(e.line, line, query);
        assert.equal(e.column, column, query);
        assert.match(e.reason, message);
        const lineText = query.split('\n')[line - 1]!;
        assert.equal(e.excerpt, `${lineText}\n${'-'.repeat(column - 1)}^`);
        return true;
      },
    );
  }
});

test('Kibana quirk kept: `not ` ends an unquoted value even inside a word', () => {
  assert.throws(() => parseKql('f:cannot be'), KqlSyntaxError);
  assert.deepEqual(parseKql('f:"cannot be"'), is('f', 'cannot be', true));
});

/* ------------------------------------------------------------------------------------------ */
/* Semantics on events                                                                         */
/* ------------------------------------------------------------------------------------------ */

test('field:value on keyword fields is exact and case-sensitive', () => {
  assert.equal(matches('okta.event_type:user.session.start'), true);
  assert.equal(matches('okta.event_type:USER.SESSION.START'), false);
  assert.equal(matches('okta.event_type:user.session'), false, 'whole value');
  assert.equal(matches('okta.actor.display_name:Homer Simpson'), true);
  assert.equal(matches('okta.actor.display_name:"Homer Simpson"'), true);
  assert.equal(matches('okta.actor.display_name:"homer simpson"'), false);
  assert.equal(matches('data_stream.dataset:okta.system and event.dataset:"okta.system"'), true);
});

test('unquoted * is a case-sensitive whole-value wildcard; quoted * and \\* are literal; ? is a letter', () => {
  assert.equal(matches('okta.actor.alternate_id:homer*'), true);
  assert.equal(matches('okta.actor.alternate_id:Homer*'), false);
  assert.equal(matches('okta.actor.alternate_id:*@duff.com'), true);
  assert.equal(matches('okta.actor.alternate_id:*simpson*'), true);
  assert.equal(matches('okta.actor.alternate_id:"homer*"'), false);
  assert.equal(matches('okta.actor.alternate_id:homer\\*'), false);
  assert.equal(matches('okta.actor.id:"a*b"', { actor: { id: 'a*b' } }), true);
  assert.equal(matches('okta.actor.id:a\\*b', { actor: { id: 'a*b' } }), true);
  assert.equal(matches('okta.actor.id:a\\*b', { actor: { id: 'aXb' } }), false);
  assert.equal(matches('okta.actor.id:a?c*', { actor: { id: 'abc1' } }), false, '? is not a KQL wildcard');
  assert.equal(matches('okta.actor.id:a?c*', { actor: { id: 'a?c1' } }), true);
});

test('booleans and numbers compare by their string form', () => {
  assert.equal(matches('okta.security_context.is_proxy:true', proxy(true)), true);
  assert.equal(matches('okta.security_context.is_proxy:true', proxy('true')), true, 'a boolean mapping accepts "true"');
  assert.equal(matches('okta.security_context.is_proxy:true', proxy(false)), false);
  assert.equal(matches('okta.security_context.is_proxy:false', proxy(false)), true);
  assert.equal(matches('okta.security_context.is_proxy:"true"', proxy(true)), true);
  assert.equal(matches('okta.security_context.as.number:701', proxy(true)), true);
  assert.equal(matches('okta.authentication_context.authentication_step:0'), true);
});

test('not: a missing field satisfies `not f:v`; any matching array element makes it false', () => {
  assert.equal(matches('not okta.outcome.reason:VERIFICATION_ERROR'), true, 'outcome.reason is missing');
  assert.equal(matches('not okta.outcome.reason:VERIFICATION_ERROR', { outcome: { result: 'FAILURE', reason: 'VERIFICATION_ERROR' } }), false);
  const targets = (...types: string[]) => ({ target: types.map((type, i) => ({ id: `t${i}`, type, alternateId: `a${i}` })) });
  assert.equal(matches('okta.target.type:User', targets('AppInstance', 'User')), true);
  assert.equal(matches('not okta.target.type:User', targets('AppInstance', 'User')), false);
  assert.equal(matches('not okta.target.type:User', targets('AppInstance')), true);
  assert.equal(matches('not okta.target.type:User', { target: [] }), true);
  assert.equal(matches('not okta.actor.id:okta*', { actor: { id: ['00u1', 'okta1'] } as unknown as JsonObject }), false);
});

test('field:* is exists (null and empty values are absent); *:* and the empty query match everything', () => {
  assert.equal(matches('okta.client.zone:*'), true);
  assert.equal(matches('okta.outcome.reason:*'), false);
  assert.equal(matches('okta.outcome.reason:*', { outcome: { result: 'SUCCESS', reason: null } }), false);
  assert.equal(matches('okta.security_context.is_proxy:*', proxy(false)), true);
  assert.equal(matches('okta.authentication_context.issuer.id:(* and not "Okta")', { authenticationContext: { issuer: { id: 'Okta', type: 'IdP' } } }), false);
  assert.equal(matches('okta.authentication_context.issuer.id:(* and not "Okta")', { authenticationContext: { issuer: { id: '0oa9', type: 'IdP' } } }), true);
  assert.equal(matches('okta.authentication_context.issuer.id:(* and not "Okta")'), false);
  assert.deepEqual(kqlPredicate('*:*'), { type: 'const', value: true });
  assert.equal(matches(''), true);
});

test('ranges: numeric when both sides are numbers, else lexical (ISO timestamps); date math refused', () => {
  assert.equal(matches('okta.security_context.as.number > 700', proxy(true)), true);
  assert.equal(matches('okta.security_context.as.number >= 701', proxy(true)), true);
  assert.equal(matches('okta.security_context.as.number < 701', proxy(true)), false);
  assert.equal(matches('okta.security_context.as.number <= 701', proxy(true)), true);
  assert.equal(matches('@timestamp >= "2026-11-02T08:00:00.000Z" and @timestamp < "2026-11-02T10:00:00.000Z"'), true);
  assert.equal(matches('@timestamp > "2026-11-03"'), false);
  assert.throws(() => kqlPredicate('@timestamp > now-1d'), KqlUnsupportedError);
});

test('nested field:{ subquery } prefixes the sub-fields', () => {
  assert.deepEqual(kqlPredicate('okta.security_context:{ isp:tor and as.number:701 }'), {
    type: 'and',
    args: [
      { type: 'compare', field: { name: 'okta.security_context.isp', schema: 'ecs' }, op: 'eq', values: ['tor'], options: { caseSensitive: true, coerce: 'string' } },
      { type: 'compare', field: { name: 'okta.security_context.as.number', schema: 'ecs' }, op: 'eq', values: ['701'], options: { caseSensitive: true, coerce: 'string' } },
    ],
  });
  assert.equal(matches('okta.security_context:{ isp:tor and as.number:701 }', proxy(true)), true);
  assert.equal(matches('okta:{ security_context:{ isp:verizon } }'), true);
});

test('a bare value searches every value of the event (IR keyword), case-sensitively', () => {
  assert.deepEqual(kqlPredicate('"Homer Simpson"'), { type: 'keyword', op: 'eq', values: ['Homer Simpson'], options: { caseSensitive: true, coerce: 'string' } });
  assert.equal(matches('"Homer Simpson"'), true);
  assert.equal(matches('homer simpson'), false);
  assert.equal(matches('*@duff.com'), true);
  assert.equal(matches('*@springfield.gov'), false);
});

test('a wildcard field name is an OR over the known ECS fields it matches', () => {
  const p = kqlPredicate('okta.target.*: jane@duff.com');
  assert.equal(p.type, 'or');
  const names = (p as { args: { field: { name: string } }[] }).args.map((a) => a.field.name);
  assert.deepEqual(names, ['okta.target.id', 'okta.target.type', 'okta.target.alternate_id', 'okta.target.display_name']);
  const target = { target: [{ id: '00u2', type: 'User', alternateId: 'jane@duff.com', displayName: 'Jane' }] };
  assert.equal(matches('okta.target.*: jane@duff.com', target), true);
  assert.equal(matches('okta.target.*: jane@duff.com'), false);
  assert.equal(matches('okta.actor.*: Homer*'), true, 'okta.actor.display_name');
  assert.equal(matches('okta.security_context.is_*: true', proxy(true)), true);
  assert.deepEqual(kqlPredicate('no.such.*: x'), { type: 'const', value: false }, 'no field matches: nothing matches');
  assert.equal(matches('okta.target.*:*', target), true);
});

/* ------------------------------------------------------------------------------------------ */
/* The seed rule's query                                                                       */
/* ------------------------------------------------------------------------------------------ */

const SEED_KQL = `data_stream.dataset:okta.system and
    okta.event_type: (
        user.session.start or
        user.authentication.verify or
        user.authentication.sso or
        user.authentication.auth_via_mfa
    ) and
    okta.security_context.is_proxy:true and
    not okta.actor.id: okta*
`;

test('the seed rule KQL: proxy sign-in true; isProxy false, actor okta*, other event types false', () => {
  const seed = compilePredicate(kqlPredicate(SEED_KQL), CTX);
  const ev = (over: JsonObject) => oktaEvent({ ...proxy(true), ...over });
  assert.equal(seed(ev({})), true, 'proxy sign-in');
  assert.equal(seed(ev({ eventType: 'user.authentication.sso' })), true);
  assert.equal(seed(ev(proxy(false))), false, 'isProxy false');
  assert.equal(seed(ev(proxy(null))), false, 'isProxy null');
  assert.equal(seed(ev({ actor: { id: 'okta123', type: 'User' } })), false, 'actor id starting with okta');
  assert.equal(seed(ev({ actor: { id: 'Okta123', type: 'User' } })), true, 'case-sensitive');
  assert.equal(seed(ev({ actor: { type: 'User' } })), true, 'actor id missing');
  assert.equal(seed(ev({ eventType: 'USER.SESSION.START' })), false);
  assert.equal(seed(ev({ eventType: 'user.account.lock' })), false);
});
