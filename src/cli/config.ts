/**
 * Configuration file (JSON or YAML): the defaults a team sets once.
 *   org: https://acme.okta.com        # tenant: cloud.account.id of ECS views
 *   rules: [rules/, ../my-rules/]     # default --rules
 *   state: .oktopus/state.sqlite      # default --state
 *   timeField: published              # event time field
 *   reorderWindowSeconds: 300
 *   placeholders: { admins: [alice, bob] }   # Sigma |expand values
 *   geoipCity: /data/GeoLite2-City.mmdb       # enrichment (docs/enrichment.md)
 *   geoipAsn: /data/GeoLite2-ASN.mmdb
 *   geoipCountry: /data/country.mmdb           # default: the one shipped through npm
 *   users: directory/users.csv                 # user profiles loaded at each scan
 *   exceptions: [exceptions/]                  # default --exceptions (docs/exceptions.md)
 */
import { existsSync, readFileSync } from 'node:fs';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { yamlErrorReason } from '../dialects/errors.js';

export interface Config {
  org?: string;
  rules?: string[];
  state?: string;
  timeField?: string;
  reorderWindowSeconds?: number;
  placeholders?: Record<string, string[]>;
  geoipCity?: string;
  geoipAsn?: string;
  geoipCountry?: string;
  users?: string;
  exceptions?: string[];
}

export const DEFAULT_CONFIG = 'oktopus.yml';

const KEYS: Record<keyof Config, (v: unknown) => boolean> = {
  org: (v) => typeof v === 'string',
  rules: (v) => Array.isArray(v) && v.every((x) => typeof x === 'string'),
  state: (v) => typeof v === 'string',
  timeField: (v) => typeof v === 'string',
  reorderWindowSeconds: (v) => typeof v === 'number' && v >= 0,
  placeholders: (v) =>
    typeof v === 'object' && v !== null && Object.values(v).every((x) => Array.isArray(x) && x.every((y) => typeof y === 'string')),
  geoipCity: (v) => typeof v === 'string',
  geoipAsn: (v) => typeof v === 'string',
  geoipCountry: (v) => typeof v === 'string',
  users: (v) => typeof v === 'string',
  exceptions: (v) => Array.isArray(v) && v.every((x) => typeof x === 'string'),
};

function yamlPosition(e: unknown): string {
  const pos = e instanceof YAMLParseError ? e.linePos?.[0] : undefined;
  return pos ? ` (line ${pos.line}, column ${pos.col})` : '';
}

export function loadConfig(path?: string): Config {
  const file = path ?? (existsSync(DEFAULT_CONFIG) ? DEFAULT_CONFIG : undefined);
  if (!file) return {};
  let raw: unknown;
  try {
    raw = parseYaml(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`${file}: ${yamlErrorReason((e as Error).message)}${yamlPosition(e)}`);
  }
  if (raw === null || raw === undefined) return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new Error(`${file}: the configuration is a mapping of settings`);
  const out: Config = {};
  for (const [k, v] of Object.entries(raw)) {
    const check = KEYS[k as keyof Config];
    if (!check) throw new Error(`${file}: unknown setting '${k}' (known: ${Object.keys(KEYS).join(', ')})`);
    if (!check(v)) throw new Error(`${file}: setting '${k}' has the wrong type`);
    (out as Record<string, unknown>)[k] = v;
  }
  return out;
}
