/**
 * The date math of rule time windows (`from = "now-6m"`, `history_window_start = "now-7d"`):
 * `now-N` with s, m, h (H), d or w. Months, years, rounding (`/d`) and absolute dates are not
 * taken: rules using them are reported unsupported by their callers.
 */
const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, H: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 };

/** `now-7d` -> 7 days in ms; undefined for date math this engine does not take. */
export function historyWindowMs(expr: string): number | undefined {
  const m = /^now-(\d+)([smhHdw])$/.exec(expr.trim());
  return m ? Number(m[1]) * UNIT_MS[m[2]!]! : undefined;
}
