/** Severity words of every dialect, normalised to one scale, with Kibana's default risk scores. */
import type { Severity } from '../ir/types.js';

const WORDS: Record<string, Severity> = {
  informational: 'informational',
  info: 'informational',
  low: 'low',
  medium: 'medium',
  high: 'high',
  critical: 'critical',
};

/** Sigma `level`, Panther `Severity`, Elastic `severity` -> normalised severity, or undefined. */
export function normaliseSeverity(word: unknown): Severity | undefined {
  return typeof word === 'string' ? WORDS[word.trim().toLowerCase()] : undefined;
}

/** Risk score when the rule gives none: Elastic's defaults (low 21, medium 47, high 73, critical 99). */
export function defaultRiskScore(s: Severity): number {
  return { informational: 0, low: 21, medium: 47, high: 73, critical: 99 }[s];
}
