import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RuleError } from '../src/dialects/errors.js';
import { parseSigmaText, type SigmaConfig } from '../src/dialects/sigma/index.js';
import { base64OffsetVariants, insertPlaceholders, windashVariants } from '../src/dialects/sigma/modifiers.js';
import { isoWeek, timePartRegex } from '../src/dialects/sigma/timeparts.js';
import { ANY, ONE, Placeholder, SigmaString } from '../src/dialects/sigma/values.js';
import { compilePredicate, compileRegex } from '../src/engine/predicate/index.js';
import type { CanonicalEvent, JsonObject } from '../src/event/types.js';
import type { Predicate } from '../src/ir/types.js';

function event(doc: JsonObject): CanonicalEvent {
  return { kind: 'okta', id: 'e1', time: 0, eventType: '', doc, origin: 'test', depth: 0, shape: 'okta', cache: new Map() };
}

/** A rule whose detection is `sel:` holding the given YAML lines (already indented by 8). */
function rule(selection: string, condition = 'sel'): string {
  return `title: Modifier test
id: m-1
logsource:
    product: okta
    service: okta
detection:
    sel:
${selection}
    condition: ${condition}
`;
}

function predicate(selection: string, config?: SigmaConfig): Predicate {
  const { rules, unsupported } = parseSigmaText(rule(selection), 'm.yml', config);
  assert.equal(unsupported.length, 0, JSON.stringify(unsupported));
  return (rules[0]!.stages[0] as { predicate: Predicate }).predicate;
}

function matcher(selection: string, config?: SigmaConfig): (doc: JsonObject) => boolean {
  const m = compilePredicate(predicate(selection, config), { org: 'test' });
  return (doc) => m(event(doc));
}

function ruleError(selection: string, pattern: RegExp): void {
  assert.throws(() => parseSigmaText(rule(selection), 'm.yml'), (e: unknown) => e instanceof RuleError && pattern.test(e.message));
}

/* ------------------------------------------------------------------------------------------ */
/* Values and escaping (pySigma tests/test_types.py vectors)                                   */
/* ------------------------------------------------------------------------------------------ */

test('SigmaString escaping: pySigma vectors', () => {
  assert.deepEqual(SigmaString.parse('escaped\\*\\?\\\\*?').parts, ['escaped*?\\', ANY, ONE]);
  assert.deepEqual(SigmaString.parse('\\n').parts, ['\\n'], 'backslash before a plain character stays');
  assert.deepEqual(SigmaString.parse('end\\').parts, ['end\\'], 'trailing backslash is literal');
  assert.deepEqual(SigmaString.parse('\\\\\\*').parts, ['\\*'], '\\\\\\* is a literal backslash-star');
  assert.deepEqual(SigmaString.parse('\\\\\\\\').parts, ['\\\\'], 'four backslashes are two');
  assert.deepEqual(SigmaString.parse('a*b?c').parts, ['a', ANY, 'b', ONE, 'c']);
  assert.equal(SigmaString.parse('a\\*b*').toWildcard(), 'a\\*b*', 'IR canonical escapes');
  assert.equal(SigmaString.parse('C:\\Windows\\*').toWildcard(), 'C:\\\\Windows\\*');
});

test('plain values: case-insensitive whole-value match; wildcards; escapes', () => {
  const m = matcher("        displayMessage: 'Max sign in attempts exceeded'");
  assert.equal(m({ displayMessage: 'max SIGN in attempts exceeded' }), true);
  assert.equal(m({ displayMessage: 'Max sign in attempts exceeded!' }), false, 'whole value, not substring');
  const w = matcher("        a: 'adm*n?'");
  assert.equal(w({ a: 'Administrator1' }), false);
  assert.equal(w({ a: 'ADMIN1' }), true);
  const lit = matcher("        a: 'C:\\Windows\\*'");
  assert.equal(lit({ a: 'c:\\windows*' }), true, '\\* is a literal star, the backslash is the escape');
  assert.equal(lit({ a: 'c:\\windows\\system32' }), false);
  const backslashStar = matcher("        a: 'C:\\Windows\\\\\\*'");
  assert.equal(backslashStar({ a: 'c:\\windows\\*' }), true, '\\\\\\* is a literal backslash-star');
  const starLit = matcher("        a: 'C:\\\\*'");
  assert.equal(starLit({ a: 'C:\\system32' }), true, '\\\\* is a backslash then a wildcard');
});

test("'' is the empty string, null and [] are absent-or-null", () => {
  const empty = matcher("        a: ''");
  assert.equal(empty({ a: '' }), true);
  assert.equal(empty({}), false);
  assert.equal(empty({ a: null }), false);
  const nul = matcher('        a: null');
  assert.equal(nul({}), true);
  assert.equal(nul({ a: null }), true);
  assert.equal(nul({ a: '' }), false);
  const list = matcher('        a: []');
  assert.equal(list({}), true);
  assert.equal(list({ a: 'x' }), false);
  assert.deepEqual(predicate('        a: []'), { type: 'null', field: { name: 'a', schema: 'okta' } });
});

test('lists are OR, maps are AND, numbers and booleans compare as strings', () => {
  const m = matcher('        eventType:\n            - zone.deactivate\n            - zone.delete\n        n: 4624\n        b: true');
  assert.equal(m({ eventType: 'zone.delete', n: '4624', b: 'true' }), true);
  assert.equal(m({ eventType: 'zone.delete', n: 4624, b: true }), true);
  assert.equal(m({ eventType: 'zone.create', n: 4624, b: true }), false);
  assert.equal(m({ eventType: 'zone.delete', n: 4625, b: true }), false);
});

/* ------------------------------------------------------------------------------------------ */
/* Generic modifiers                                                                           */
/* ------------------------------------------------------------------------------------------ */

test('contains / startswith / endswith', () => {
  assert.deepEqual(predicate("        u|contains: 'admin'"), {
    type: 'compare',
    field: { name: 'u', schema: 'okta' },
    op: 'contains',
    values: ['admin'],
  });
  assert.equal(matcher("        u|startswith: '/api'")({ u: '/API/v1' }), true);
  assert.equal(matcher("        u|endswith: '.exe'")({ u: 'CMD.EXE' }), true);
  assert.equal(matcher("        u|endswith: '.exe'")({ u: 'cmd.exe.bak' }), false);
  assert.equal(matcher("        u|contains: 'a*c'")({ u: 'xxabbbcxx' }), true, 'wildcards inside contains');
  assert.equal(matcher('        n|contains: 462')({ n: 14624 }), true, 'numbers as written');
});

test('all: values AND-linked', () => {
  const m = matcher("        cmd|contains|all:\n            - '-a'\n            - '-b'");
  assert.equal(m({ cmd: 'x -b -a' }), true);
  assert.equal(m({ cmd: 'x -a' }), false);
  const arr = matcher('        target.displayName|all:\n            - alice\n            - bob');
  assert.equal(arr({ target: [{ displayName: 'Alice' }, { displayName: 'Bob' }] }), true);
  assert.equal(arr({ target: [{ displayName: 'Alice' }] }), false);
});

test('exists: true / false; needs a boolean and a field', () => {
  const yes = matcher('        a|exists: true');
  const no = matcher('        a|exists: false');
  assert.equal(yes({ a: null }), true, 'presence, even if null (spec)');
  assert.equal(yes({}), false);
  assert.equal(no({}), true);
  assert.equal(no({ a: 1 }), false);
  ruleError("        a|exists: 'yes'", /modifier 'exists' cannot be applied to string/);
  ruleError('        a|contains|exists: true', /cannot be applied|must come first/);
});

test('cased: case-sensitive comparison', () => {
  const m = matcher("        a|cased: 'Admin'");
  assert.equal(m({ a: 'Admin' }), true);
  assert.equal(m({ a: 'admin' }), false);
  const c = matcher("        a|contains|cased: 'Adm'");
  assert.equal(c({ a: 'xAdmx' }), true);
  assert.equal(c({ a: 'xadmx' }), false);
});

test('neq: the field differs from every value', () => {
  const m = matcher('        eventType|neq:\n            - a\n            - b');
  assert.equal(m({ eventType: 'c' }), true);
  assert.equal(m({ eventType: 'A' }), false);
  assert.equal(m({ eventType: 'b' }), false);
  const n = matcher('        n|neq: 5');
  assert.equal(n({ n: 6 }), true);
  assert.equal(n({ n: '5' }), false);
});

/* ------------------------------------------------------------------------------------------ */
/* String modifiers                                                                            */
/* ------------------------------------------------------------------------------------------ */

test('windash: pySigma vector -param-1 -param2 expands to 25 strings', () => {
  const fail = (m: string): never => {
    throw new Error(m);
  };
  const variants = windashVariants(SigmaString.parse('-param-1 -param2'), fail).map((s) => s.text());
  const dashes = ['-', '/', '\u2013', '\u2014', '\u2015'];
  const expected = dashes.flatMap((a) => dashes.map((b) => `${a}param-1 ${b}param2`));
  assert.equal(variants.length, 25);
  assert.deepEqual(variants, expected);
  assert.deepEqual(
    windashVariants(SigmaString.parse('a-b'), fail).map((s) => s.text()),
    ['a-b'],
    'a dash inside a word is not a flag',
  );
  assert.deepEqual(
    windashVariants(SigmaString.parse('*/c'), fail).map((s) => s.text()),
    ['*-c', '*/c', '*\u2013c', '*\u2014c', '*\u2015c'],
  );
  const m = matcher("        cmd|windash|contains: ' -exec '");
  assert.equal(m({ cmd: 'x /exec y' }), true);
  assert.equal(m({ cmd: 'x \u2014exec y' }), true);
  assert.equal(m({ cmd: 'x +exec y' }), false);
});

test('windash with all: each value is an OR of its variants', () => {
  const m = matcher("        cmd|windash|contains|all:\n            - ' -a'\n            - ' -b'");
  assert.equal(m({ cmd: 'x /a /b' }), true);
  assert.equal(m({ cmd: 'x -a' }), false);
});

test('re: RE2, unanchored, with i / m / s flags and long aliases', () => {
  const m = matcher("        actor.alternateId|re: '(^0oa.*|[a-zA-Z0-9._%+-]+@[a-zA-Z0-9.-]+\\.[a-zA-Z]{2,10})'");
  assert.equal(m({ actor: { alternateId: 'alice@example.com' } }), true);
  assert.equal(m({ actor: { alternateId: '0oa1234' } }), true);
  assert.equal(m({ actor: { alternateId: 'hunter2' } }), false);
  assert.equal(matcher("        a|re: 'ADMIN'")({ a: 'admin' }), false, 'case-sensitive by default');
  assert.equal(matcher("        a|re|i: 'ADMIN'")({ a: 'admin' }), true);
  assert.equal(matcher("        a|re|ignorecase: 'ADMIN'")({ a: 'admin' }), true);
  assert.equal(matcher("        a|re|m: '^b$'")({ a: 'a\nb' }), true);
  assert.equal(matcher("        a|re|multiline: '^b$'")({ a: 'a\nb' }), true);
  assert.equal(matcher("        a|re|s: 'a.b'")({ a: 'a\nb' }), true);
  assert.equal(matcher("        a|re|dotall: 'a.b'")({ a: 'a\nb' }), true);
  assert.equal(matcher("        a|re: 'a.b'")({ a: 'a\nb' }), false);
  assert.deepEqual(predicate("        a|re|s|i: 'x'"), {
    type: 'compare',
    field: { name: 'a', schema: 'okta' },
    op: 'regex',
    values: ['x'],
    options: { flags: 'is' },
  });
  assert.equal(matcher("        a|re|contains: 'b+'")({ a: 'abbc' }), true, 'contains on a regex changes nothing');
  assert.equal(matcher("        a|re: 'C:\\\\Win'")({ a: 'C:\\Win' }), true, 'the raw text, no wildcard escaping');
});

test('re: lookahead and backreferences are rule errors naming the pattern', () => {
  ruleError("        a|re: 'foo(?=bar)'", /m\.yml:8:9: regex \/foo\(\?=bar\)\/ cannot be compiled: lookahead/);
  ruleError("        a|re: '(a)\\1'", /backreferences/);
  ruleError("        a|contains|re: 'x'", /modifier 're' must come first/);
  ruleError("        a|i: 'x'", /modifier 'i' cannot be applied to string/);
});

test('base64: pySigma encoding; wildcards refused', () => {
  assert.deepEqual(predicate('        a|base64: foobar'), {
    type: 'compare',
    field: { name: 'a', schema: 'okta' },
    op: 'eq',
    values: ['Zm9vYmFy'],
  });
  assert.equal(matcher('        a|base64|contains: foobar')({ a: 'xxZm9vYmFyxx' }), true);
  ruleError("        a|base64: 'foo*'", /cannot encode a value with wildcards/);
});

test('base64offset: pySigma vectors foobar -> Zm9vYmFy, Zvb2Jhc, mb29iYX', () => {
  assert.deepEqual(base64OffsetVariants(Buffer.from('foobar')), ['Zm9vYmFy', 'Zvb2Jhc', 'mb29iYX']);
  assert.deepEqual(base64OffsetVariants(Buffer.from('foob')), ['Zm9vY', 'Zvb2', 'mb29i']);
  const m = matcher('        a|base64offset|contains: foobar');
  for (const prefix of ['', 'x', 'xy', 'xyz']) {
    const encoded = Buffer.from(`${prefix}foobar and more`).toString('base64');
    assert.equal(m({ a: encoded }), true, `offset ${prefix.length}`);
  }
  assert.equal(m({ a: Buffer.from('foo bar').toString('base64') }), false);
});

test('utf16le / wide / utf16be / utf16 with base64', () => {
  assert.deepEqual((predicate('        a|wide|base64: cmd') as { values: string[] }).values, ['YwBtAGQA']);
  assert.deepEqual((predicate('        a|utf16le|base64: cmd') as { values: string[] }).values, ['YwBtAGQA']);
  assert.deepEqual((predicate('        a|utf16be|base64: cmd') as { values: string[] }).values, ['AGMAbQBk']);
  assert.deepEqual((predicate('        a|utf16|base64: cmd') as { values: string[] }).values, ['//5jAG0AZAA=']);
  const m = matcher('        a|wide|base64offset|contains: ping')
  for (const prefix of ['', 'a', 'ab']) {
    const encoded = Buffer.from(`${prefix}ping 127.0.0.1`, 'utf16le').toString('base64');
    assert.equal(m({ a: encoded }), true, `utf16le offset ${prefix}`);
  }
  assert.equal(m({ a: Buffer.from('ping 127.0.0.1').toString('base64') }), false, 'UTF-8 text does not match');
});

test('bare utf16le without base64 compares the byte string (NUL-interleaved text)', () => {
  const m = matcher('        a|wide|contains: cmd');
  assert.equal(m({ a: 'x c\u0000m\u0000d\u0000 y' }), true);
  assert.equal(m({ a: 'cmd' }), false);
});

/* ------------------------------------------------------------------------------------------ */
/* Numeric and time modifiers                                                                  */
/* ------------------------------------------------------------------------------------------ */

test('lt / lte / gt / gte', () => {
  assert.equal(matcher('        n|gt: 10')({ n: 11 }), true);
  assert.equal(matcher('        n|gt: 10')({ n: '10' }), false);
  assert.equal(matcher('        n|gte: 10')({ n: '10' }), true);
  assert.equal(matcher('        n|lt: 10')({ n: 9 }), true);
  assert.equal(matcher('        n|lte: 10')({ n: 10.5 }), false);
  assert.equal(matcher("        published|gte: '2024-01-01'")({ published: '2024-03-05T10:00:00.000Z' }), true);
  assert.equal(matcher("        published|lt: '2024-01-01'")({ published: '2024-03-05T10:00:00.000Z' }), false);
  ruleError("        n|gt: '1*'", /needs a number or a plain string/);
  ruleError('        n|gt: true', /cannot be applied to boolean/);
});

test('minute / hour / day / month / year / week of an ISO timestamp', () => {
  const at = { published: '2024-03-05T22:10:45.123Z' };
  assert.equal(matcher('        published|hour: 22')(at), true);
  assert.equal(matcher('        published|hour: 21')(at), false);
  assert.equal(matcher('        published|hour|gte: 20')(at), true);
  assert.equal(matcher('        published|hour|lt: 6')(at), false);
  assert.equal(matcher('        published|hour|lt: 6')({ published: '2024-03-05T05:59:00Z' }), true);
  assert.equal(matcher('        published|minute: 10')(at), true);
  assert.equal(matcher('        published|minute|gt: 10')(at), false);
  assert.equal(matcher('        published|day: 5')(at), true);
  assert.equal(matcher('        published|day|lte: 4')(at), false);
  assert.equal(matcher('        published|month: 3')(at), true);
  assert.equal(matcher('        published|month|gte: 4')(at), false);
  assert.equal(matcher('        published|year: 2024')(at), true);
  assert.equal(matcher('        published|year|lt: 2024')(at), false);
  assert.equal(matcher('        published|year|gte: 2000')(at), true);
  assert.equal(matcher('        published|week: 10')(at), true);
  assert.equal(matcher('        published|week: 11')(at), false);
  assert.equal(matcher('        published|week: 53')({ published: '2021-01-01T00:00:00Z' }), true, 'ISO week 53 of 2020');
  assert.equal(matcher('        published|week: 1')({ published: '2024-12-30T00:00:00Z' }), true, 'ISO week 1 of 2025');
  assert.equal(matcher('        published|hour: 22')({ published: 1709676645000 }), false, 'epoch numbers are not dates');
  assert.equal(matcher('        published|hour|neq: 22')(at), false);
  assert.equal(matcher('        published|hour|gt: 23')(at), false, 'empty range matches nothing');
  ruleError('        published|hour: 1.5', /needs an integer/);
  ruleError("        published|hour: 'x'", /cannot be applied to string/);
});

test('week regex agrees with the ISO week of every day of 2019-2026', () => {
  const byWeek = new Map<number, { test(s: string): boolean }>();
  for (let w = 1; w <= 53; w++) byWeek.set(w, compileRegex(timePartRegex('week', 'eq', w)!));
  for (let t = Date.UTC(2019, 0, 1); t < Date.UTC(2027, 0, 1); t += 86_400_000) {
    const d = new Date(t);
    const text = d.toISOString();
    const week = isoWeek(d);
    assert.equal(byWeek.get(week)!.test(text), true, `${text} is in week ${week}`);
    assert.equal(byWeek.get(week === 1 ? 2 : week - 1)!.test(text), false, `${text} is not in the week before`);
  }
});

/* ------------------------------------------------------------------------------------------ */
/* cidr, expand, fieldref                                                                      */
/* ------------------------------------------------------------------------------------------ */

test('cidr: IPv4 and IPv6; invalid networks and combinations are errors', () => {
  const m = matcher("        client.ipAddress|cidr:\n            - '10.0.0.0/8'\n            - '2001:db8::/32'");
  assert.equal(m({ client: { ipAddress: '10.20.30.40' } }), true);
  assert.equal(m({ client: { ipAddress: '2001:db8::5' } }), true);
  assert.equal(m({ client: { ipAddress: '8.8.8.8' } }), false);
  assert.equal(m({ client: { ipAddress: 'localhost' } }), false);
  ruleError("        ip|cidr: '10.0.0.0/33'", /cidr '10\.0\.0\.0\/33'/);
  ruleError("        ip|contains|cidr: '10.0.0.0/8'", /must come first/);
  ruleError("        ip|cidr|contains: '10.0.0.0/8'", /cannot be applied to CIDR network/);
});

test('expand: %placeholder% from the configuration; wildcards in values; escape \\%', () => {
  const cfg: SigmaConfig = { placeholders: { domains: ['@example.com', '@corp.*'] } };
  const m = matcher("        actor.alternateId|contains|expand: '%domains%'", cfg);
  assert.equal(m({ actor: { alternateId: 'bob@example.com' } }), true);
  assert.equal(m({ actor: { alternateId: 'bob@CORP.internal' } }), true);
  assert.equal(m({ actor: { alternateId: 'bob@evil.com' } }), false);
  assert.deepEqual(insertPlaceholders(SigmaString.parse('a%x%b\\%y%')).parts, ['a', new Placeholder('x'), 'b%y%']);
  const lit = matcher("        a: '%domains%'", cfg);
  assert.equal(lit({ a: '%domains%' }), true, 'without |expand a placeholder is literal text');
});

test('expand: an unconfigured placeholder makes the rule unsupported, naming it', () => {
  const text = `title: Impersonation
id: fe04b26b
logsource: {product: okta, service: okta}
detection:
    selection:
        eventType: 'user.session.impersonation.grant'
    filter_main_company:
        actor.alternateId|contains|expand: '%legtimate_identifiers%'
    condition: selection and not 1 of filter_main_*
level: medium
`;
  const { rules, unsupported } = parseSigmaText(text, 'p.yml');
  assert.equal(rules.length, 0);
  assert.equal(unsupported.length, 1);
  assert.equal(unsupported[0]!.status, 'unsupported');
  assert.match(unsupported[0]!.reason, /%legtimate_identifiers%/);
  const ok = parseSigmaText(text, 'p.yml', { placeholders: { legtimate_identifiers: ['@corp.com'] } });
  assert.equal(ok.rules.length, 1);
});

test('fieldref: with contains / startswith / endswith / neq / cased', () => {
  const eq = matcher('        actor.alternateId|fieldref: target.alternateId');
  assert.equal(eq({ actor: { alternateId: 'Bob' }, target: [{ alternateId: 'x' }, { alternateId: 'bob' }] }), true);
  assert.equal(eq({ actor: { alternateId: 'Bob' }, target: [{ alternateId: 'x' }] }), false);
  const ne = matcher('        actor.alternateId|fieldref|neq: target.alternateId');
  assert.equal(ne({ actor: { alternateId: 'Bob' }, target: [{ alternateId: 'x' }] }), true);
  assert.equal(ne({ actor: { alternateId: 'Bob' }, target: [{ alternateId: 'bob' }] }), false);
  assert.equal(matcher('        a|fieldref|contains: b')({ a: 'xxbobxx', b: 'bob' }), true);
  assert.equal(matcher('        a|fieldref|startswith: b')({ a: 'bobxx', b: 'bob' }), true);
  assert.equal(matcher('        a|fieldref|startswith: b')({ a: 'xxbob', b: 'bob' }), false);
  assert.equal(matcher('        a|fieldref|endswith: b')({ a: 'xxbob', b: 'bob' }), true);
  assert.equal(matcher('        a|fieldref|cased: b')({ a: 'Bob', b: 'bob' }), false);
  assert.deepEqual(predicate('        a|fieldref|contains: b'), {
    type: 'fieldref',
    field: { name: 'a', schema: 'okta' },
    other: { name: 'b', schema: 'okta' },
    op: 'contains',
  });
  ruleError("        a|fieldref: 'b*'", /cannot contain wildcards/);
  ruleError('        a|fieldref|base64: b', /cannot be applied to field reference/);
});

test('unknown modifiers are rule errors with the key position', () => {
  assert.throws(
    () => parseSigmaText(rule('        a|containz: x'), 'm.yml'),
    (e: unknown) => e instanceof RuleError && e.line === 8 && e.col === 9 && /unknown modifier 'containz'/.test(e.message),
  );
});
