/**
 * Sigma rule metadata: log source applicability, MITRE ATT&CK tags, severity.
 */
import type { RuleIR, Severity, Stage, ThreatRef } from '../../ir/types.js';
import { defaultRiskScore, normaliseSeverity } from '../severity.js';
import type { YEntry, YNode } from './yaml.js';

/* ------------------------------------------------------------------------------------------ */
/* Log source                                                                                  */
/* ------------------------------------------------------------------------------------------ */

const LOGSOURCE_KEYS = ['category', 'product', 'service'] as const;

/**
 * Why a rule's log source is not Okta, or undefined when it is. Okta's taxonomy entry is
 * `product: okta, service: okta`; either one naming okta is enough.
 */
export function notOktaReason(logsource: Record<string, unknown>): string | undefined {
  const word = (k: string) => (typeof logsource[k] === 'string' ? (logsource[k] as string).trim().toLowerCase() : undefined);
  if (word('product') === 'okta' || word('service') === 'okta') return undefined;
  const given = LOGSOURCE_KEYS.filter((k) => logsource[k] !== undefined && logsource[k] !== null).map(
    (k) => `${k}=${String(logsource[k])}`,
  );
  if (given.length === 0) return 'logsource names no product, service or category, so it is not an Okta source';
  return `logsource ${given.join(' ')} is not an Okta source`;
}

/* ------------------------------------------------------------------------------------------ */
/* MITRE ATT&CK                                                                                */
/* ------------------------------------------------------------------------------------------ */

export const ATTACK_FRAMEWORK = 'MITRE ATT&CK';

/** ATT&CK enterprise tactics by Sigma tag name (v19 names plus the older `defense-evasion`). */
const TACTICS: Record<string, { id: string; name: string }> = {
  reconnaissance: { id: 'TA0043', name: 'Reconnaissance' },
  'resource-development': { id: 'TA0042', name: 'Resource Development' },
  'initial-access': { id: 'TA0001', name: 'Initial Access' },
  execution: { id: 'TA0002', name: 'Execution' },
  persistence: { id: 'TA0003', name: 'Persistence' },
  'privilege-escalation': { id: 'TA0004', name: 'Privilege Escalation' },
  'defense-evasion': { id: 'TA0005', name: 'Defense Evasion' },
  stealth: { id: 'TA0005', name: 'Stealth' },
  'defense-impairment': { id: 'TA0112', name: 'Defense Impairment' },
  'credential-access': { id: 'TA0006', name: 'Credential Access' },
  discovery: { id: 'TA0007', name: 'Discovery' },
  'lateral-movement': { id: 'TA0008', name: 'Lateral Movement' },
  collection: { id: 'TA0009', name: 'Collection' },
  'command-and-control': { id: 'TA0011', name: 'Command and Control' },
  exfiltration: { id: 'TA0010', name: 'Exfiltration' },
  impact: { id: 'TA0040', name: 'Impact' },
};

function isDigits(s: string): boolean {
  return s.length > 0 && [...s].every((c) => c >= '0' && c <= '9');
}

/** `t1078` -> T1078, `t1078.004` -> T1078.004, anything else -> undefined. */
function techniqueId(word: string): string | undefined {
  if (word[0] !== 't') return undefined;
  const [main, sub, ...rest] = word.slice(1).split('.');
  if (rest.length > 0 || !isDigits(main!) || main!.length !== 4) return undefined;
  if (sub === undefined) return `T${main}`;
  return isDigits(sub) && sub.length === 3 ? `T${main}.${sub}` : undefined;
}

/**
 * ATT&CK references from Sigma tags (`attack.<tactic>`, `attack.tNNNN[.NNN]`; group `gNNNN`
 * and software `sNNNN` tags are not part of `threat`).
 *
 * Every entry has a tactic: the entries end up in `kibana.alert.rule.threat`, and Kibana's
 * threat schema requires `tactic` (only `technique` is optional). Sigma tags do not say which
 * technique belongs to which tactic, so:
 *  - one tactic tag: the techniques are listed under it (the author's tactic for them);
 *  - several tactic tags: one entry per tactic, without techniques. Attaching every technique
 *    to every tactic (or pairing them by position, as pySigma's Elastic backend does) would
 *    state tactic/technique pairs the author never made and ATT&CK may not have; without an
 *    ATT&CK catalogue here they cannot be checked;
 *  - no tactic tag: no entry at all.
 * Techniques left out of `threat` are not lost: they stay in the rule's `tags`
 * (`attack.t1078`), which are copied to `kibana.alert.rule.tags`.
 * Technique names are not resolved (no ATT&CK catalogue is bundled): a technique's name is its id.
 */
export function threatFromTags(tags: readonly string[]): ThreatRef[] {
  const tactics: { id: string; name: string }[] = [];
  const techniques = new Map<string, { id: string; name: string; subtechniques?: { id: string; name: string }[] }>();
  for (const tag of tags) {
    const lower = tag.trim().toLowerCase();
    if (!lower.startsWith('attack.')) continue;
    const word = lower.slice('attack.'.length).replace(/_/g, '-');
    const tactic = TACTICS[word];
    if (tactic) {
      if (!tactics.some((t) => t.name === tactic.name)) tactics.push(tactic);
      continue;
    }
    const id = techniqueId(word);
    if (!id) continue;
    const parent = id.split('.')[0]!;
    const entry = techniques.get(parent) ?? { id: parent, name: parent };
    techniques.set(parent, entry);
    if (id !== parent) {
      const subs = (entry.subtechniques ??= []);
      if (!subs.some((s) => s.id === id)) subs.push({ id, name: id });
    }
  }
  if (tactics.length === 1) return [{ framework: ATTACK_FRAMEWORK, tactic: tactics[0]!, techniques: [...techniques.values()] }];
  return tactics.map((tactic) => ({ framework: ATTACK_FRAMEWORK, tactic, techniques: [] }));
}

/* ------------------------------------------------------------------------------------------ */
/* Status                                                                                      */
/* ------------------------------------------------------------------------------------------ */

export const STATUSES = new Set(['stable', 'test', 'experimental', 'deprecated', 'unsupported']);

/** Rules with these statuses are loaded but disabled. */
export const DISABLED_STATUSES = new Set(['deprecated', 'unsupported']);

/* ------------------------------------------------------------------------------------------ */
/* The fields every Sigma rule has (detection and correlation rules alike)                    */
/* ------------------------------------------------------------------------------------------ */

/** What these readers need of rule.ts's document reader. */
export interface MetadataDoc {
  file: string;
  fail(message: string, at?: YNode | YEntry): never;
  get(key: string): YEntry | undefined;
  string(key: string, required?: boolean): string | undefined;
  strings(key: string): string[];
}

export interface StatusAndLevel {
  status?: string;
  level?: string;
  severity: Severity;
}

/** `status` and `level`, validated (an unknown word is an error at its place). */
export function statusAndLevel(doc: MetadataDoc): StatusAndLevel {
  const status = doc.string('status');
  if (status !== undefined && !STATUSES.has(status)) {
    doc.fail(`invalid status '${status}' (expected one of ${[...STATUSES].join(', ')})`, doc.get('status'));
  }
  const level = doc.string('level');
  const severity = level === undefined ? 'medium' : normaliseSeverity(level);
  if (severity === undefined) {
    doc.fail(`invalid level '${level}' (expected informational, low, medium, high or critical)`, doc.get('level'));
  }
  return { status, level, severity };
}

/** A Sigma rule's IR: the metadata of the document around the rule's input and stages. */
export function sigmaRuleIR(
  doc: MetadataDoc,
  rule: { id: string; title: string; ruleType: string; input: RuleIR['input']; stages: Stage[] },
  meta: StatusAndLevel,
): RuleIR {
  const tags = doc.strings('tags');
  const author = doc.string('author');
  const description = doc.string('description');
  const ir: RuleIR = {
    id: rule.id,
    name: rule.title,
    dialect: 'sigma',
    ruleType: rule.ruleType,
    file: doc.file,
    severity: meta.severity,
    riskScore: defaultRiskScore(meta.severity),
    tags,
    threat: threatFromTags(tags),
    references: doc.strings('references'),
    falsePositives: doc.strings('falsepositives'),
    input: rule.input,
    stages: rule.stages,
    enabled: !(meta.status !== undefined && DISABLED_STATUSES.has(meta.status)),
  };
  if (meta.level !== undefined) ir.severityRaw = meta.level;
  if (description !== undefined) ir.description = description;
  if (author !== undefined) ir.author = author;
  return ir;
}
