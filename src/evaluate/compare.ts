/**
 * What exception lists change: the same log run twice, without and with the lists (a second
 * rule set), compared alert by alert. Alert ids are deterministic (rule + events), so an alert of
 * the first run missing from the second was removed by an exception, and one only in the second
 * was raised because an exception moved a window (a dedup or suppression window now opened by a
 * later event, a threshold counted differently). Each is a true or false positive as scored in
 * its own run.
 */
import type { Evaluation } from './score.js';

export interface ExceptionItemCount {
  /** The rule's id and name. */
  rule: string;
  ruleName: string;
  list: string;
  item: string;
  name: string;
  events: number;
}

export interface ExceptionRuleDelta {
  id: string;
  name: string;
  removedTruePositives: number;
  removedFalsePositives: number;
  addedTruePositives: number;
  addedFalsePositives: number;
}

export interface ExceptionsReport {
  lists: string[];
  /** Per rule, list and item: the events the item excepted (the engine's counts). */
  items: ExceptionItemCount[];
  rules: ExceptionRuleDelta[];
  /** Scenarios detected without the lists and missed with them. */
  scenariosLost: string[];
}

/** Alert uuids of one run with their rule id; `before` and `after` are scored evaluations. */
export function compareRuns(
  before: { evaluation: Evaluation; alerts: Map<string, string> },
  after: { evaluation: Evaluation; alerts: Map<string, string> },
  names: Map<string, string>,
): Pick<ExceptionsReport, 'rules' | 'scenariosLost'> {
  const rows = new Map<string, ExceptionRuleDelta>();
  const row = (id: string): ExceptionRuleDelta => {
    let r = rows.get(id);
    if (!r) rows.set(id, (r = { id, name: names.get(id) ?? id, removedTruePositives: 0, removedFalsePositives: 0, addedTruePositives: 0, addedFalsePositives: 0 }));
    return r;
  };
  const side = (from: typeof before, to: typeof after, tp: 'removedTruePositives' | 'addedTruePositives', fp: 'removedFalsePositives' | 'addedFalsePositives'): void => {
    for (const [uuid, rule] of from.alerts) {
      if (to.alerts.has(uuid)) continue;
      const scenarios = from.evaluation.attribution.get(uuid);
      if (scenarios === undefined) continue; // a building block: not counted in either run
      row(rule)[scenarios.length > 0 ? tp : fp]++;
    }
  };
  side(before, after, 'removedTruePositives', 'removedFalsePositives');
  side(after, before, 'addedTruePositives', 'addedFalsePositives');
  const detectedAfter = new Set(after.evaluation.scenarios.filter((s) => s.detected).map((s) => s.id));
  return {
    rules: [...rows.values()].sort((a, b) => a.name.localeCompare(b.name)),
    scenariosLost: before.evaluation.scenarios.filter((s) => s.detected && !detectedAfter.has(s.id)).map((s) => s.id),
  };
}
