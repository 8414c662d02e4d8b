/**
 * The ground truth of a simulated log (`oktopus-truth/2`, written by the tenant simulator): the
 * tenant's size and time span, the injected attack scenarios with every malicious event's uuid,
 * and the benign look-alike populations (VPN and relay users, travellers) with their networks.
 *
 * Every problem is one line naming the file and the JSON path (`truth.json: $.scenarios[1].start:
 * …`); all of them are reported, not only the first, and a truth file with any error is refused
 * (a partly read truth would make recall and precision lie).
 *
 * The older array format of examples/ (`[{scenario, user, eventUuids, description}]`, one entry per
 * attack stage) is read too: one scenario per distinct `scenario`, its users the entries' users.
 * It has no times nor tenant size: `start`/`end` of each scenario come from the log (its first and
 * last malicious event), and the tenant from the log as well (see `LogFacts`).
 */
import { readFileSync } from 'node:fs';
import { parseEventAddress, parseNetwork } from '../engine/predicate/cidr.js';

export const TRUTH_FORMAT = 'oktopus-truth/2';

export const BENIGN_CATEGORIES = ['corporate-vpn', 'commercial-vpn', 'private-relay', 'traveller'] as const;
export type BenignCategory = (typeof BENIGN_CATEGORIES)[number];

export interface TruthTenant {
  org: string;
  orgUrl: string;
  seed: number;
  users: number;
  days: number;
  /** Epoch ms. */
  start: number;
  end: number;
}

export interface TruthScenario {
  id: string;
  title: string;
  description: string;
  users: string[];
  targets: string[];
  ips: string[];
  /** Event time (epoch ms) of the first malicious event; undefined until known (legacy format). */
  start?: number;
  end?: number;
  eventUuids: string[];
}

export interface TruthBenign {
  category: BenignCategory;
  users: string[];
  cidrs: string[];
  description: string;
}

export interface Truth {
  file: string;
  format: typeof TRUTH_FORMAT | 'legacy-array';
  /** Absent for the legacy format (taken from the log). */
  tenant?: TruthTenant;
  scenarios: TruthScenario[];
  benign: TruthBenign[];
}

export class TruthError extends Error {
  constructor(readonly lines: string[]) {
    super(lines.join('\n'));
  }
}

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * The written date and time exist: Date.parse rolls "2026-02-30T…" over to March 2 and accepts
 * hour 24, so the fields are checked against a UTC date built from them (the zone does not matter
 * for whether a calendar day or a clock time exists).
 */
function calendarValid(v: string): boolean {
  const m = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d)(?::(\d\d))?/.exec(v)!;
  const [y, mo, d, h, mi, sec] = [m[1], m[2], m[3], m[4], m[5], m[6] ?? '0'].map(Number) as [number, number, number, number, number, number];
  const u = new Date(Date.UTC(y, mo - 1, d, h, mi, sec));
  return u.getUTCFullYear() === y && u.getUTCMonth() === mo - 1 && u.getUTCDate() === d && u.getUTCHours() === h && u.getUTCMinutes() === mi && u.getUTCSeconds() === sec;
}

function shown(v: unknown): string {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 60 ? s.slice(0, 59) + '…' : s;
}

/** Reads fields of one JSON object, collecting one error line per bad field. */
class Reader {
  constructor(
    private readonly file: string,
    readonly errors: string[],
  ) {}

  fail(path: string, message: string): void {
    this.errors.push(`${this.file}: ${path}: ${message}`);
  }

  object(v: unknown, path: string): Obj | undefined {
    if (isObj(v)) return v;
    this.fail(path, `expected an object, got ${shown(v)}`);
    return undefined;
  }

  string(o: Obj, key: string, path: string, opts: { empty?: boolean } = {}): string {
    const v = o[key];
    if (typeof v === 'string' && (opts.empty || v.trim() !== '')) return v;
    this.fail(`${path}.${key}`, v === undefined ? 'missing (a string)' : `expected a${opts.empty ? '' : ' non-empty'} string, got ${shown(v)}`);
    return '';
  }

  number(o: Obj, key: string, path: string, check: (n: number) => boolean, what: string): number {
    const v = o[key];
    if (typeof v === 'number' && Number.isFinite(v) && check(v)) return v;
    this.fail(`${path}.${key}`, v === undefined ? `missing (${what})` : `expected ${what}, got ${shown(v)}`);
    return NaN;
  }

  time(o: Obj, key: string, path: string): number {
    const v = o[key];
    const t = typeof v === 'string' && /^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:?\d\d)$/.test(v) ? Date.parse(v) : NaN;
    if (Number.isFinite(t) && calendarValid(v as string)) return t;
    this.fail(`${path}.${key}`, v === undefined ? 'missing (an ISO 8601 time)' : `expected an ISO 8601 time with a zone, e.g. 2026-11-02T00:00:00.000Z, got ${shown(v)}`);
    return NaN;
  }

  strings(o: Obj, key: string, path: string, check?: (s: string) => string | undefined): string[] {
    const v = o[key];
    if (!Array.isArray(v)) {
      this.fail(`${path}.${key}`, v === undefined ? 'missing (a list of strings)' : `expected a list of strings, got ${shown(v)}`);
      return [];
    }
    const out: string[] = [];
    v.forEach((x, i) => {
      if (typeof x !== 'string' || x.trim() === '') return this.fail(`${path}.${key}[${i}]`, `expected a non-empty string, got ${shown(x)}`);
      const problem = check?.(x);
      if (problem) return this.fail(`${path}.${key}[${i}]`, `${problem}: ${shown(x)}`);
      out.push(x);
    });
    return out;
  }
}

const badIp = (s: string): string | undefined => (parseEventAddress(s) ? undefined : 'not an IP address');

const badCidr = (s: string): string | undefined => {
  try {
    parseNetwork(s);
    return undefined;
  } catch {
    return 'not a network (CIDR, e.g. 198.51.100.0/24) nor an IP address';
  }
};

function readV2(doc: Obj, r: Reader, file: string): Truth {
  let tenant: TruthTenant | undefined;
  const t = r.object(doc['tenant'], '$.tenant');
  if (t) {
    tenant = {
      org: r.string(t, 'org', '$.tenant'),
      orgUrl: r.string(t, 'orgUrl', '$.tenant'),
      seed: r.number(t, 'seed', '$.tenant', Number.isInteger, 'a whole number'),
      users: r.number(t, 'users', '$.tenant', (n) => Number.isInteger(n) && n > 0, 'a whole number > 0'),
      days: r.number(t, 'days', '$.tenant', (n) => n > 0, 'a number of days > 0'),
      start: r.time(t, 'start', '$.tenant'),
      end: r.time(t, 'end', '$.tenant'),
    };
    if (tenant.end <= tenant.start) r.fail('$.tenant.end', 'is not after $.tenant.start');
  }

  const scenarios: TruthScenario[] = [];
  const list = doc['scenarios'];
  if (!Array.isArray(list)) r.fail('$.scenarios', list === undefined ? 'missing (a list of scenarios)' : `expected a list, got ${shown(list)}`);
  const ids = new Set<string>();
  (Array.isArray(list) ? list : []).forEach((x, i) => {
    const p = `$.scenarios[${i}]`;
    const s = r.object(x, p);
    if (!s) return;
    const sc: TruthScenario = {
      id: r.string(s, 'id', p),
      title: r.string(s, 'title', p),
      description: r.string(s, 'description', p, { empty: true }),
      users: r.strings(s, 'users', p),
      targets: r.strings(s, 'targets', p),
      ips: r.strings(s, 'ips', p, badIp),
      start: r.time(s, 'start', p),
      end: r.time(s, 'end', p),
      eventUuids: r.strings(s, 'eventUuids', p),
    };
    if (sc.id && ids.has(sc.id)) r.fail(`${p}.id`, `duplicate scenario id ${shown(sc.id)}`);
    ids.add(sc.id);
    if (Array.isArray(s['eventUuids']) && s['eventUuids'].length === 0) r.fail(`${p}.eventUuids`, 'is empty: a scenario needs at least one malicious event');
    if (sc.end! < sc.start!) r.fail(`${p}.end`, `is before ${p}.start`);
    const first = new Map<string, number>();
    sc.eventUuids.forEach((u, k) => {
      const at = first.get(u);
      if (at !== undefined) r.fail(`${p}.eventUuids[${k}]`, `${shown(u)} is listed twice (also at ${p}.eventUuids[${at}])`);
      else first.set(u, k);
    });
    scenarios.push(sc);
  });

  const benign: TruthBenign[] = [];
  const blist = doc['benign'];
  if (blist !== undefined && !Array.isArray(blist)) r.fail('$.benign', `expected a list, got ${shown(blist)}`);
  (Array.isArray(blist) ? blist : []).forEach((x, i) => {
    const p = `$.benign[${i}]`;
    const b = r.object(x, p);
    if (!b) return;
    const category = b['category'];
    if (!BENIGN_CATEGORIES.includes(category as BenignCategory)) r.fail(`${p}.category`, `expected one of ${BENIGN_CATEGORIES.join(', ')}, got ${shown(category)}`);
    benign.push({
      category: category as BenignCategory,
      users: r.strings(b, 'users', p),
      cidrs: r.strings(b, 'cidrs', p, badCidr),
      description: r.string(b, 'description', p, { empty: true }),
    });
  });
  return { file, format: TRUTH_FORMAT, tenant, scenarios, benign };
}

function readLegacy(list: unknown[], r: Reader, file: string): Truth {
  const byId = new Map<string, TruthScenario>();
  list.forEach((x, i) => {
    const p = `$[${i}]`;
    const e = r.object(x, p);
    if (!e) return;
    const id = r.string(e, 'scenario', p);
    const user = r.string(e, 'user', p);
    const uuids = r.strings(e, 'eventUuids', p);
    const description = r.string(e, 'description', p, { empty: true });
    if (!id) return;
    let sc = byId.get(id);
    if (!sc) byId.set(id, (sc = { id, title: id, description: '', users: [], targets: [], ips: [], eventUuids: [] }));
    if (user && !sc.users.includes(user)) sc.users.push(user);
    sc.eventUuids.push(...uuids);
    sc.description = sc.description ? `${sc.description} ${description}` : description;
  });
  return { file, format: 'legacy-array', scenarios: [...byId.values()], benign: [] };
}

/** Parse a truth document (already JSON-decoded); `file` names it in error lines. */
export function parseTruth(doc: unknown, file: string): Truth {
  const r = new Reader(file, []);
  let truth: Truth | undefined;
  if (Array.isArray(doc)) truth = readLegacy(doc, r, file);
  else if (isObj(doc)) {
    if (doc['format'] !== TRUTH_FORMAT) r.fail('$.format', `expected "${TRUTH_FORMAT}", got ${shown(doc['format'])}`);
    else truth = readV2(doc, r, file);
  } else r.fail('$', `expected an object with "format": "${TRUTH_FORMAT}", got ${shown(doc)}`);
  if (r.errors.length > 0 || !truth) throw new TruthError(r.errors);
  // An empty list is an attack-free log (simulate --no-attacks): every alert is a false positive, recall n/a.
  return truth;
}

/** Read and parse a truth file. */
export function readTruth(path: string): Truth {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new TruthError([`${path}: cannot read the truth file: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`]);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new TruthError([`${path}: not JSON: ${(e as Error).message}`]);
  }
  return parseTruth(doc, path);
}
