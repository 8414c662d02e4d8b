import { test } from 'node:test';
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

test('hostile regex in a rule runs in linear time', () => {
  const m = compile("    sel:\n        displayMessage|re: '(a+)+$'\n    condition: sel");
  assert.equal(m({ displayMessage: 'a'.repeat(50_000) + '!' }), false);
  assert.equal(m({ displayMessage: 'a'.repeat(50_000) }), true);
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
