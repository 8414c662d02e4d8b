import { test } from 'node:test';
import { timeboxed } from './helpers.js';
import { eventOf as oktaEvent } from './helpers.js';
import assert from 'node:assert/strict';
import { parseSigmaText } from '../src/dialects/sigma/index.js';
import { compilePredicate } from '../src/engine/predicate/index.js';
import type { JsonObject, LogEvent } from '../src/event/types.js';
import type { Predicate } from '../src/ir/types.js';



function compile(detection: string): (doc: JsonObject) => boolean {
  const text = `title: Match test
id: match-1
status: test
logsource:
    product: okta
    service: okta
detection:
${detection}
level: medium
`;
  const { rules, unsupported } = parseSigmaText(text, 'match.yml');
  assert.equal(unsupported.length, 0, JSON.stringify(unsupported));
  const m = compilePredicate((rules[0]!.stages[0] as { predicate: Predicate }).predicate, { org: 'test' });
  return (doc) => m(oktaEvent(doc));
}

const sessionStart: LogEvent = {
  uuid: 'a6e0b1c2-0000-4000-8000-000000000001',
  published: '2024-03-05T22:10:45.123Z',
  eventType: 'user.session.start',
  legacyEventType: 'core.user_auth.login_success',
  displayMessage: 'User login to Okta',
  actor: { id: '00u1', type: 'User', alternateId: 'alice@example.com', displayName: 'Alice' },
  client: { ipAddress: '198.51.100.7', userAgent: { rawUserAgent: 'Mozilla/5.0' } },
  outcome: { result: 'SUCCESS', reason: null },
  securityContext: { asNumber: 13335, asOrg: 'cloudflare', isp: 'cloudflare', domain: null, isProxy: true },
  target: [
    { id: '0oa1', type: 'AppInstance', alternateId: 'Okta Admin Console', displayName: 'Okta Admin Console', detailEntry: null },
  ],
  debugContext: {
    debugData: {
      requestUri: '/api/v1/authn',
      behaviors: '{New Geo-Location=POSITIVE, New Device=NEGATIVE}',
      threatSuspected: 'false',
    },
  },
};

test("'true' in a rule vs JSON true, \"true\", false and null", () => {
  const m = compile("    sel:\n        securityContext.isProxy: 'true'\n    condition: sel");
  assert.equal(m(sessionStart), true);
  assert.equal(m({ ...sessionStart, securityContext: { isProxy: 'true' } }), true);
  assert.equal(m({ ...sessionStart, securityContext: { isProxy: false } }), false);
  assert.equal(m({ ...sessionStart, securityContext: { isProxy: null } }), false);
  assert.equal(m({ ...sessionStart, securityContext: {} }), false);
  const notProxy = compile("    sel:\n        securityContext.isProxy: 'false'\n    condition: sel");
  assert.equal(notProxy({ ...sessionStart, securityContext: { isProxy: null } }), false, 'null is not false');
});

test('selections over arrays: target.displayName matches any element; all of selection_*', () => {
  const m = compile(`    selection_event:
        eventType: 'user.session.start'
        target.displayName: 'Okta Admin Console'
    selection_positive:
        - debugContext.debugData.behaviors|contains: 'POSITIVE'
        - debugContext.debugData.logOnlySecurityData|contains: 'POSITIVE'
    condition: all of selection_*`);
  assert.equal(m(sessionStart), true);
  const otherTarget = { ...sessionStart, target: [{ displayName: 'Slack' }, { displayName: 'Okta Admin Console' }] };
  assert.equal(m(otherTarget), true);
  assert.equal(m({ ...sessionStart, target: [{ displayName: 'Slack' }] }), false);
  assert.equal(m({ ...sessionStart, debugContext: { debugData: { behaviors: '{New Device=NEGATIVE}' } } }), false);
  assert.equal(
    m({ ...sessionStart, debugContext: { debugData: { behaviors: '', logOnlySecurityData: '{"behaviors":{"New City":"POSITIVE"}}' } } }),
    true,
  );
});

test('selection and not filter with a regex', () => {
  const m = compile(`    selection:
        legacyEventType: 'core.user_auth.login_failed'
    filter_main:
        actor.alternateId|re: '(^0oa.*|[a-zA-Z0-9._%+-]+@[a-zA-Z0-9.-]+\\.[a-zA-Z]{2,10})'
    condition: selection and not filter_main`);
  const failed = { ...sessionStart, legacyEventType: 'core.user_auth.login_failed' };
  assert.equal(m(failed), false, 'an email address is filtered');
  assert.equal(m({ ...failed, actor: { alternateId: 'Hunter2!' } }), true, 'a password-looking id is not');
  assert.equal(m({ ...failed, actor: { alternateId: null } }), true, 'not (no match) for null');
  assert.equal(m(sessionStart), false);
});

test('hostile regex in a rule runs in linear time', { timeout: 10000 }, async () => {
  const results = await timeboxed(
    8000,
    async (sigmaUrl: string, predicateUrl: string, helpersUrl: string) => {
      const { parseSigmaText: parse } = (await import(sigmaUrl)) as typeof import('../src/dialects/sigma/index.js');
      const { compilePredicate: compileP } = (await import(predicateUrl)) as typeof import('../src/engine/predicate/index.js');
      const { eventOf } = (await import(helpersUrl)) as typeof import('./helpers.js');
      const text = "title: t\nid: h\nlogsource: {product: okta}\ndetection:\n    sel:\n        displayMessage|re: '(a+)+$'\n    condition: sel\n";
      const stage = parse(text, 'h.yml').rules[0]!.stages[0] as { predicate: import('../src/ir/types.js').Predicate };
      const m = compileP(stage.predicate, { org: 'test' });
      return [m(eventOf({ displayMessage: 'a'.repeat(50_000) + '!' })), m(eventOf({ displayMessage: 'a'.repeat(50_000) }))];
    },
    new URL('../src/dialects/sigma/index.js', import.meta.url).href,
    new URL('../src/engine/predicate/index.js', import.meta.url).href,
    new URL('./helpers.js', import.meta.url).href,
  );
  assert.deepEqual(results, [false, true]);
});

test('plain numbers match the text as written and the number (1.0 matches "1.0" and 1)', () => {
  const m = compile('    sel:\n        securityContext.asNumber: 1.0\n    condition: sel');
  const as = (v: JsonObject[string]) => m({ ...sessionStart, securityContext: { asNumber: v } });
  assert.equal(as('1.0'), true, 'the text as written');
  assert.equal(as(1), true, 'the JSON number 1.0 (parsed as 1)');
  assert.equal(as('1'), true, "the number's decimal form");
  assert.equal(as('1.00'), false);
  assert.equal(as(1.5), false);
  assert.equal(as('10'), false);

  const hex = compile('    sel:\n        securityContext.asNumber: 0x17\n    condition: sel');
  const asHex = (v: JsonObject[string]) => hex({ ...sessionStart, securityContext: { asNumber: v } });
  assert.deepEqual([asHex(23), asHex('23'), asHex('0x17'), asHex('0X17'), asHex('17')], [true, true, true, true, false]);

  // '|all' needs every value: each number's two spellings stay alternatives of one value.
  const all = compile('    sel:\n        target.id|all: [1.0, 2.50]\n    condition: sel');
  const targets = (...ids: string[]) => all({ ...sessionStart, target: ids.map((id) => ({ id })) });
  assert.equal(targets('1.0', '2.50'), true);
  assert.equal(targets('1', '2.5'), true);
  assert.equal(targets('1.0'), false);
  assert.equal(targets('2.50'), false);

  const list = compile('    sel:\n        securityContext.asNumber: [1.0, 4624]\n    condition: sel');
  assert.equal(list({ ...sessionStart, securityContext: { asNumber: '1.0' } }), true);
  assert.equal(list({ ...sessionStart, securityContext: { asNumber: 4624 } }), true);
  assert.equal(list({ ...sessionStart, securityContext: { asNumber: '4624' } }), true);
});

test('keyword lists search every value of the event (OR-linked, case-insensitive substring)', () => {
  const m = compile("    keywords:\n        - 'ADMIN CONSOLE'\n        - 'nothing-here'\n    condition: keywords");
  assert.equal(m(sessionStart), true);
  assert.equal(m({ ...sessionStart, target: [] }), false);
  const num = compile('    keywords:\n        - 13335\n    condition: keywords');
  assert.equal(num(sessionStart), true, 'numbers by string form');
  const wild = compile("    keywords:\n        - 'alice@*.com'\n    condition: keywords");
  assert.equal(wild(sessionStart), true);
  const keys = compile("    keywords:\n        - 'securityContext'\n    condition: keywords");
  assert.equal(keys(sessionStart), false, 'keys are not values');
});

test("keyword '|all' form: every keyword must appear", () => {
  const m = compile("    keywords:\n        '|all':\n            - 'alice'\n            - 'cloudflare'\n    condition: keywords");
  assert.equal(m(sessionStart), true);
  assert.equal(m({ ...sessionStart, securityContext: {} }), false);
});

test('keywords with explicit modifiers follow them against each value', () => {
  const starts = compile("    keywords:\n        '|startswith': 'alice@'\n    condition: keywords");
  assert.equal(starts(sessionStart), true);
  const notStart = compile("    keywords:\n        '|startswith': 'example'\n    condition: keywords");
  assert.equal(notStart(sessionStart), false);
  const re = compile("    keywords:\n        '|re': '^/api/v\\d/authn$'\n    condition: keywords");
  assert.equal(re(sessionStart), true);
});

test('keywords combined with field selections', () => {
  const m = compile(`    selection:
        eventType: user.session.start
    keywords:
        - cloudflare
    condition: selection and keywords`);
  assert.equal(m(sessionStart), true);
  assert.equal(m({ ...sessionStart, eventType: 'user.session.end' }), false);
});

test('list of maps is OR of AND groups', () => {
  const m = compile(`    sel:
        - eventType: user.session.start
          outcome.result: FAILURE
        - eventType: user.session.end
    condition: sel`);
  assert.equal(m(sessionStart), false);
  assert.equal(m({ ...sessionStart, outcome: { result: 'failure' } }), true);
  assert.equal(m({ ...sessionStart, eventType: 'user.session.end' }), true);
});

test('null selection: field absent or null; negated for "has a value"', () => {
  const m = compile(`    selection:
        eventType: user.session.start
    filter:
        securityContext.domain: null
    condition: selection and not filter`);
  assert.equal(m(sessionStart), false, 'domain is null');
  assert.equal(m({ ...sessionStart, securityContext: { domain: 'example.net' } }), true);
  assert.equal(m({ ...sessionStart, securityContext: {} }), false, 'absent');
});

test('enrichment namespace fields (oktopus.*) read from the event document', () => {
  const m = compile("    sel:\n        oktopus.geo.country: 'NZ'\n    condition: sel");
  assert.equal(m({ ...sessionStart, oktopus: { geo: { country: 'nz' } } }), true);
  assert.equal(m(sessionStart), false);
});
