/**
 * `--exceptions` through the built CLI: scan, rules list, explain, the config file, and Elastic
 * rules whose exceptions_list names a list that was not provided.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { logEvent } from './helpers.js';

const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const RULES = fileURLToPath(new URL('../../rules/', import.meta.url));
const SIGMA_SEED = join(RULES, 'sigma', 'okta_user_session_start_via_anonymised_proxy.yml');

function run(args: string[], cwd = tmpdir()) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', cwd });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A log with a Private Relay user, a corporate VPN user and a real proxy user, all on proxies. */
function setup(): { dir: string; log: string; yml: string; lists: string } {
  const dir = mkdtempSync(join(tmpdir(), 'oktopus-exc-cli-'));
  const proxy = (uuid: string, ip: string, asOrg: string) => logEvent({ uuid, client: { ipAddress: ip, zone: 'null', device: 'Computer' }, securityContext: { isProxy: true, asOrg, isp: asOrg, domain: 'x', asNumber: 1 } });
  const log = join(dir, 'log.ndjson');
  writeFileSync(log, [proxy('relay', '172.226.12.9', 'Apple'), proxy('vpn', '203.0.113.77', 'Acme'), proxy('real', '45.83.91.4', 'M247')].map((e) => JSON.stringify(e)).join('\n') + '\n');
  // The team's exception folder: the YAML and the value list it names (a folder = every file in it).
  const lists = join(dir, 'exceptions');
  mkdirSync(lists);
  writeFileSync(join(lists, 'private-relay.txt'), '172.224.0.0-172.227.255.255\n2a02:26f7::/32\n');
  const yml = join(lists, 'tuning.yml');
  writeFileSync(
    yml,
    `lists:
  - id: benign-proxies
    name: Benign proxy egress
    rules: ['*']
    items:
      - id: private-relay
        name: iCloud Private Relay
        entries: [{ field: source.ip, type: list, operator: included, list: { id: private-relay.txt, type: ip_range } }]
      - id: corp-vpn
        name: Corporate VPN
        entries: [{ field: client.ipAddress, type: match, operator: included, value: 203.0.113.0/24 }]
`,
  );
  return { dir, log, yml, lists };
}

const alertsOf = (stdout: string) => stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);

test('scan --exceptions: the benign proxy users raise no alert, the real one does', () => {
  const { log, lists } = setup();
  const without = run(['scan', log, '--rules', SIGMA_SEED, '--format', 'ndjson', '--memory', '--quiet']);
  assert.equal(without.code, 0, without.stderr);
  assert.equal(alertsOf(without.stdout).length, 3);
  const withLists = run(['scan', log, '--rules', SIGMA_SEED, '--exceptions', lists, '--format', 'ndjson', '--memory']);
  assert.equal(withLists.code, 0, withLists.stderr);
  assert.match(withLists.stderr, /exceptions: iCloud Private Relay \(benign-proxies\/private-relay\): 1 event removed from 1 rule/);
  assert.match(withLists.stderr, /exceptions: Corporate VPN \(benign-proxies\/corp-vpn\): 1 event removed from 1 rule/);
  const alerts = alertsOf(withLists.stdout);
  assert.deepEqual(alerts.map((a) => (a['oktopus'] as Record<string, unknown>)['event_uuids']), [['real']]);
});

test('rules list marks rules with exceptions; explain shows them', () => {
  const { lists: yml } = setup();
  const list = run(['rules', 'list', '--rules', SIGMA_SEED, '--exceptions', yml]);
  assert.equal(list.code, 0, list.stderr);
  assert.match(list.stdout, /\[2 exceptions\]/);
  const json = JSON.parse(run(['rules', 'list', '--rules', SIGMA_SEED, '--exceptions', yml, '--json']).stdout);
  assert.equal(json.rules[0].exceptions, 2);
  const ex = run(['explain', SIGMA_SEED, '--exceptions', yml]);
  assert.equal(ex.code, 0, ex.stderr);
  assert.match(ex.stdout, /list Benign proxy egress \(benign-proxies\) · item iCloud Private Relay \(private-relay\)/);
  assert.match(ex.stdout, /NOT \(source\.ip cidr \("172\.224\.0\.0\/14", "2a02:26f7::\/32"\)\)/);
  assert.match(ex.stdout, /NOT \(client\.ipAddress cidr "203\.0\.113\.0\/24"\)/);
});

test('the config file lists exception files; a bad item is an error (exit 2) and the good ones still apply', () => {
  const { dir, log, lists } = setup();
  const bad = join(dir, 'bad.yml');
  writeFileSync(bad, `id: bad\nrules: ['*']\nitems:\n  - id: oops\n    entries: [{ field: user.name, type: match, operator: is, value: x }]\n`);
  writeFileSync(join(dir, 'oktopus.yml'), `exceptions: [${lists}, ${bad}]\n`);
  const r = run(['scan', log, '--rules', SIGMA_SEED, '--format', 'ndjson', '--memory'], dir);
  assert.equal(r.code, 2);
  assert.match(r.stderr, new RegExp(`error: ${bad.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:4: list 'bad' item 'oops': entry 1: unknown operator "is" \\(included or excluded\\)`));
  assert.equal(alertsOf(r.stdout).length, 1);
});

test('an Elastic rule naming an exception list: not run without it, run with the Kibana export', () => {
  const { dir, log, lists } = setup();
  const rule = join(dir, 'proxy.toml');
  writeFileSync(
    rule,
    `[rule]
name = "Proxy sign-in"
description = "x"
index = ["logs-okta*"]
language = "kuery"
risk_score = 47
rule_id = "el-proxy"
severity = "medium"
type = "query"
query = 'okta.security_context.is_proxy:true'

[[rule.exceptions_list]]
id = "abc"
list_id = "relay-list"
namespace_type = "single"
type = "detection"
`,
  );
  const list = run(['rules', 'list', '--rules', rule]);
  assert.match(list.stdout, /unsupported\s+Proxy sign-in\s+needs exception list 'relay-list' named in exceptions_list/);
  const scan = run(['scan', log, '--rules', rule, '--memory', '--format', 'ndjson']);
  assert.match(scan.stderr, /not run: Proxy sign-in \(el-proxy\): needs exception list 'relay-list'/);
  const exported = join(dir, 'relay.ndjson');
  writeFileSync(
    exported,
    [
      { list_id: 'relay-list', name: 'Relay', type: 'detection', namespace_type: 'single', description: 'd' },
      { item_id: 'r1', list_id: 'relay-list', name: 'Relay ranges', namespace_type: 'single', type: 'simple', entries: [{ field: 'source.ip', operator: 'included', type: 'list', list: { id: 'private-relay.txt', type: 'ip_range' } }] },
      { exported_exception_list_count: 1, exported_exception_list_item_count: 1 },
    ]
      .map((o) => JSON.stringify(o))
      .join('\n'),
  );
  const ok = run(['scan', log, '--rules', rule, '--exceptions', exported, '--exceptions', join(lists, 'private-relay.txt'), '--memory', '--format', 'ndjson', '--quiet']);
  assert.equal(ok.code, 0, ok.stderr);
  assert.deepEqual(alertsOf(ok.stdout).map((a) => (a['oktopus'] as Record<string, unknown>)['event_uuids']), [['vpn'], ['real']]);
});

test('rules list: a name cut for the exceptions marker ends with an ellipsis; the marker is whole', () => {
  const { lists: yml } = setup();
  const list = run(['rules', 'list', '--rules', join(RULES, 'sigma'), '--exceptions', yml]);
  assert.equal(list.code, 0, list.stderr);
  // The NAME column is 58 wide: 42 characters of a longer name, '…', and ' [2 exceptions]'.
  for (const name of ['Okta User Session Start From A New Country Via An Anonymizing Proxy', 'Okta User Session Start Via An Anonymising Proxy Service']) {
    assert.ok(list.stdout.includes(`${name.slice(0, 42)}… [2 exceptions]`), list.stdout);
  }
});

test('scan --exceptions: a bad IP in one item is one error line (exit 2); every rule still runs, the other items apply', () => {
  const { dir, log } = setup();
  const bad = join(dir, 'bad.yml');
  writeFileSync(
    bad,
    `lists:
  - id: corp
    rules: ['*']
    items:
      - id: typo
        entries: [{ field: source.ip, type: match_any, operator: included, value: [203.0.113.0/24, 165.225.112.32/33] }]
      - id: relay
        entries: [{ field: source.ip, type: match, operator: included, value: 172.224.0.0/14 }]
      - id: misspelt
        entries: [{ field: source.ipp, type: match, operator: included, value: 1.2.3.4 }]
`,
  );
  const r = run(['scan', log, '--rules', SIGMA_SEED, '--exceptions', bad, '--format', 'ndjson', '--memory']);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, new RegExp(`error: ${bad.replace(/[.\\/]/g, '\\$&')}:5: list 'corp' item 'typo': entry 1: '165\\.225\\.112\\.32/33' is not an IP address or CIDR \\(source\\.ip is an ip field\\)`));
  assert.match(r.stderr, /warning: .*bad\.yml:9: list 'corp' item 'misspelt': entry 1: field 'source\.ipp' is neither an ECS field of the Okta integration nor a LogEvent path/);
  assert.doesNotMatch(r.stderr, /not run:/);
  // relay is excepted (172.224.0.0/14); vpn (203.0.113.77) is not, since the item naming its
  // network was skipped; the misspelt field never has a value, so that item matches nothing.
  const alerted = r.stdout.trim().split('\n').map((l) => JSON.parse(l)['event']['id']).sort();
  assert.deepEqual(alerted, ['real', 'vpn']);
});
