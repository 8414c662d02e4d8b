/** The evaluation report as a terminal table (the house style of src/sinks/table.ts). */
import type { EvaluationReport } from './index.js';
import type { Severity } from '../ir/types.js';
import { SEVERITIES } from './score.js';

function fit(s: string, w: number): string {
  return s.length > w ? s.slice(0, w - 1) + '…' : s.padEnd(w);
}

const right = (s: string, w: number): string => s.padStart(w);

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

const pct = (x: number | null): string => (x === null ? '-' : `${Math.round(x * 100)}%`);

const rate = (x: number): string => (x === 0 ? '0' : x >= 10 ? x.toFixed(0) : x >= 1 ? x.toFixed(1) : x.toFixed(2));

/** 42s, 3m 05s, 2h 04m, 1d 03h. */
export function duration(seconds: number): string {
  const s = Math.round(seconds);
  const sign = s < 0 ? '-' : '';
  const a = Math.abs(s);
  const two = (n: number) => String(n).padStart(2, '0');
  if (a < 60) return `${sign}${a}s`;
  if (a < 3600) return `${sign}${Math.floor(a / 60)}m ${two(a % 60)}s`;
  if (a < 86400) return `${sign}${Math.floor(a / 3600)}h ${two(Math.floor((a % 3600) / 60))}m`;
  return `${sign}${Math.floor(a / 86400)}d ${two(Math.floor((a % 86400) / 3600))}h`;
}

function severities(by: Partial<Record<Severity, number>>): string {
  return SEVERITIES.filter((s) => by[s])
    .reverse()
    .map((s) => `${by[s]} ${s}`)
    .join(', ');
}

export function renderReport(r: EvaluationReport): string {
  const out: string[] = [];
  const w = (line = '') => out.push(line.trimEnd());
  const t = r.tenant;
  const days = Number.isInteger(t.days) ? String(t.days) : t.days.toFixed(2);
  w(
    `oktopus evaluate · ${r.truth.file} (${r.truth.format}) · ${t.org ? `tenant ${t.org} · ` : ''}${t.users} users × ${days} days` +
      `${t.source === 'log' ? ' (from the log)' : ''} · ${r.totals.events} events`,
  );
  w();

  w(`${fit('SCENARIO', 34)} ${fit('DETECTED', 8)} ${right('TTD', 9)}   ${right('EVENTS COVERED', 16)} ${right('ALERTS', 6)}`);
  for (const s of r.scenarios) {
    const ttd = s.timeToDetectSeconds === null ? '-' : duration(s.timeToDetectSeconds);
    const mark = s.timeToDetectSeconds === null ? ' ' : s.withinLimit ? '✓' : '✗';
    const covered = `${s.coveredEvents}/${s.eventsInLog} (${pct(s.coverage)})`;
    w(`${fit(s.id, 34)} ${fit(s.detected ? 'yes' : 'NO', 8)} ${right(ttd, 9)} ${mark} ${right(covered, 16)} ${right(String(s.alerts), 6)}`);
    for (const x of s.rules) w(`  ${right(duration(x.timeToDetectSeconds), 9)}  ${x.name} (${x.alerts})`);
  }
  const tt = r.totals;
  w(
    tt.recall === null
      ? 'recall n/a: the truth lists no attack scenario (an attack-free log); every alert is a false positive'
      : `recall ${tt.detected}/${tt.scenarios} scenarios (${pct(tt.recall)}); ${tt.detectedWithin} of ${tt.scenarios} detected within ${tt.withinMinutes} min of their first malicious event (✓)`,
  );
  w();

  w(`${fit('RULE', 58)} ${fit('SEVERITY', 13)} ${right('ALERTS', 6)} ${right('TP', 5)} ${right('FP', 5)} ${right('PREC', 5)} ${right('/1kU/d', 7)} ${right('FP/1kU/d', 8)}  BENIGN FALSE POSITIVES (max severity)`);
  const rules = [...r.rules].sort((a, b) => b.alerts - a.alerts || a.name.localeCompare(b.name));
  for (const x of rules) {
    const benign = Object.entries(x.benign)
      .map(([c, n]) => `${c} ${n}`)
      .join(', ');
    const name = (x.higherOrder ? '[higher-order] ' : '') + x.name;
    w(
      `${fit(name, 58)} ${fit(x.severity, 13)} ${right(String(x.alerts), 6)} ${right(String(x.truePositives), 5)} ${right(String(x.falsePositives), 5)} ${right(pct(x.precision), 5)} ` +
        `${right(rate(x.alertsPer1kUserDays), 7)} ${right(rate(x.falsePositivesPer1kUserDays), 8)}  ${benign ? `${benign} (${x.maxBenignSeverity})` : '-'}`,
    );
  }
  w(
    `${tt.alerts} alerts: ${tt.truePositives} true, ${tt.falsePositives} false positives (precision ${pct(tt.precision)}); ` +
      `${rate(tt.alertsPer1kUserDays)} alerts and ${rate(tt.falsePositivesPer1kUserDays)} false positives per 1,000 users per day` +
      (r.rules.some((x) => x.buildingBlocks > 0) ? `; ${r.rules.reduce((n, x) => n + x.buildingBlocks, 0)} building-block alerts not counted` : ''),
  );
  w();

  if (r.benign.length > 0) {
    w('BENIGN LOOK-ALIKES (false positives on their users or networks)');
    for (const b of r.benign) {
      w(`${b.category} (${plural(b.users.length, 'user')}${b.cidrs.length ? `, ${plural(b.cidrs.length, 'network')}` : ''}): ${plural(b.alerts, 'alert')}${b.alerts ? ` (${severities(b.bySeverity)})` : ''}${b.higherOrderAlerts ? `, ${b.higherOrderAlerts} higher-order` : ''}`);
      for (const x of b.rules) w(`  ${right(String(x.alerts), 6)}  ${x.higherOrder ? '[higher-order] ' : ''}${x.name}: ${severities(x.bySeverity)}`);
    }
    w();
  }
  w(tt.benignProxyCheck.line);
  for (const o of tt.benignProxyCheck.offending) w(`  ${right(String(o.alerts), 6)}  ${o.name}: ${o.severity}${o.higherOrder ? ', higher-order' : ''}`);
  for (const n of tt.otherBenignProxies) {
    w(n.line);
    for (const o of n.offending) w(`  ${right(String(o.alerts), 6)}  ${o.name}: ${o.severity}${o.higherOrder ? ', higher-order' : ''}`);
  }

  if (r.exceptions) {
    const e = r.exceptions;
    w();
    w(`EXCEPTIONS (${plural(e.lists.length, 'list')}: ${e.lists.join(', ') || '-'}); the report above is the run with them`);
    if (e.rules.length === 0) w('  no alert removed or added');
    else {
      w(`  ${fit('RULE', 52)} ${right('REMOVED TP', 10)} ${right('REMOVED FP', 10)} ${right('ADDED TP', 8)} ${right('ADDED FP', 8)}`);
      for (const x of e.rules) w(`  ${fit(x.name, 52)} ${right(String(x.removedTruePositives), 10)} ${right(String(x.removedFalsePositives), 10)} ${right(String(x.addedTruePositives), 8)} ${right(String(x.addedFalsePositives), 8)}`);
    }
    if (e.scenariosLost.length > 0) w(`  scenarios no longer detected with the exceptions: ${e.scenariosLost.join(', ')}`);
    if (e.items.length > 0) {
      w(`  ${right('EVENTS', 6)}  ITEM (list) — RULE`);
      for (const i of e.items) w(`  ${right(String(i.events), 6)}  ${i.name || i.item} (${i.list}) — ${i.ruleName}`);
    }
  }
  return out.join('\n') + '\n';
}
