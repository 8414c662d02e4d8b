/**
 * The intermediate representation (IR): what every dialect translates into, and the only thing
 * the engine, `explain` and the catalog read.
 *
 * A rule is metadata + the input it reads + a pipeline of stages. The first stage receives
 * canonical events; each later stage receives the matches of the one before it. Predicates are
 * plain data (and/or/not over comparisons) so they can be explained, indexed and compiled.
 */

/** Which field vocabulary a field name is written in. Resolved to accessors at compile time. */
export type SchemaName =
  /** Raw Okta LogEvent paths (`securityContext.isProxy`), case-insensitive keys, arrays traversed. */
  | 'okta'
  /** Elastic ECS / Okta integration fields (`okta.security_context.is_proxy`, `user.name`). */
  | 'ecs'
  /** Fields of alert documents (`kibana.alert.rule.rule_id`, plus the ECS fields they copy). */
  | 'alert';

export interface FieldRef {
  /** The field name exactly as the rule writes it. */
  name: string;
  schema: SchemaName;
}

export type Scalar = string | number | boolean;

/**
 * Comparison operators. Values of one comparison are OR-linked ("in list") unless `all` is set.
 *  - eq:          whole-value equality (strings honour `caseSensitive`; scalars compare by type
 *                 or by string form, see `coerce`)
 *  - wildcard:    glob with `*` (any run, incl. empty) and `?` (one character); `\*`, `\?`, `\\`
 *                 are literal. Whole-value match.
 *  - contains / startswith / endswith: substring tests
 *  - regex:       RE2 syntax, linear-time; `flags` of i, m, s
 *  - cidr:        IPv4/IPv6 network membership
 *  - lt/lte/gt/gte: numeric (or, for strings of dates, ISO-8601 lexical) ordering
 */
export type CompareOp =
  | 'eq'
  | 'wildcard'
  | 'contains'
  | 'startswith'
  | 'endswith'
  | 'regex'
  | 'cidr'
  | 'lt'
  | 'lte'
  | 'gt'
  | 'gte';

export interface CompareOptions {
  /** Strings compare case-sensitively. Default false. */
  caseSensitive?: boolean;
  /** Values AND-linked instead of OR-linked (Sigma `|all`). */
  all?: boolean;
  /**
   * How event values are compared to rule values:
   *  - 'string' (default): event scalars are compared by their string form (true -> "true",
   *    4624 -> "4624"), the Sigma convention;
   *  - 'typed': a boolean rule value only equals a boolean (or the strings "true"/"false"),
   *    a number only a number (or its decimal string); strings compare to strings.
   */
  coerce?: 'string' | 'typed';
  /** Regex flags (i, m, s). */
  flags?: string;
}

export type Predicate =
  | { type: 'and'; args: Predicate[] }
  | { type: 'or'; args: Predicate[] }
  | { type: 'not'; arg: Predicate }
  | { type: 'const'; value: boolean }
  | { type: 'compare'; field: FieldRef; op: CompareOp; values: Scalar[]; options?: CompareOptions }
  /** The field is present. With `nullIsMissing`, a JSON null counts as absent. */
  | { type: 'exists'; field: FieldRef; nullIsMissing?: boolean }
  /** The field is absent or JSON null. */
  | { type: 'null'; field: FieldRef }
  /** Compare a field to another field of the same event (Sigma `|fieldref`). */
  | {
      type: 'fieldref';
      field: FieldRef;
      other: FieldRef;
      op: 'eq' | 'contains' | 'startswith' | 'endswith';
      options?: CompareOptions;
    }
  /** Keyword search: any string value anywhere in the event matches (Sigma keyword lists). */
  | { type: 'keyword'; op: 'eq' | 'wildcard' | 'contains' | 'regex'; values: string[]; options?: CompareOptions }
  /**
   * A computed condition (EQL functions, arithmetic, field-to-field comparisons): the value
   * expression is evaluated with null propagation; the event matches only when it is `true`
   * (null and false do not match, as a query-side script filter in Elasticsearch).
   */
  | { type: 'expr'; expr: ValueExpr; semantics?: ExprSemantics }
  /**
   * A quantified test over the elements of a list field (Panther list comprehensions
   * AnyElement/AllElements/NoElement/OnlyOneElement, and `a[2].b` / DeepKey indexes).
   * Fields inside `where` are relative to the element (same schema); the field named ''
   * is the element itself. With `index`, only that element is tested (negative: from the
   * end) and the quantifier is 'any'. A missing or non-list value has no elements: 'any'
   * and 'one' are false, 'none' is true, and 'all' is false (nothing to vouch for).
   */
  | { type: 'elements'; field: FieldRef; quantifier: 'any' | 'all' | 'none' | 'one'; index?: number; where: Predicate }
  /**
   * A rule body written as code: the function `fn` of the module at `module` (an absolute
   * path), run by the code runtime `runtime` (src/engine/code/registry.ts; default
   * 'javascript': a TypeScript/JavaScript module in this process; 'python': a `.py` file in
   * python3 worker processes, evaluated per batch before the engine sees the events). The
   * dialect registers the runtimes it needs. Its truthy result matches; an exception does not
   * match (and is counted as a rule error).
   */
  | { type: 'code'; module: string; fn: 'rule'; runtime?: 'javascript' | 'python' };

/**
 * How a value expression treats what the two EQL engines disagree on (reference elastic.md §2.5):
 *  - 'elasticsearch' (default): a multi-valued field compares true when any value does;
 *  - 'python': the `endgameinc/eql` reference engine (a list compared with a scalar is null).
 * Case folding is per node (`caseInsensitive`), set by the dialect.
 */
export type ExprSemantics = 'elasticsearch' | 'python';

/**
 * Value expressions, evaluated three-valued (a missing field or a null anywhere gives null,
 * `and`/`or`/`not` are Kleene). Function names come from the engine's one function registry
 * (src/engine/expr/functions); a name missing there makes the rule unsupported, by name.
 */
export type ValueExpr =
  | { type: 'literal'; value: Scalar | null }
  /** `optional`: EQL `?field` (an unknown field is null instead of an error; a null join key is allowed). */
  | { type: 'field'; field: FieldRef; optional?: boolean }
  | { type: 'call'; fn: string; args: ValueExpr[]; caseInsensitive?: boolean }
  | { type: 'arith'; op: '+' | '-' | '*' | '/' | '%'; left: ValueExpr; right: ValueExpr }
  | { type: 'neg'; arg: ValueExpr }
  /** Comparison; `eq`/`neq` against the null literal is an is-null / is-not-null test (never null). */
  | { type: 'compare'; op: 'eq' | 'neq' | 'lt' | 'lte' | 'gt' | 'gte'; left: ValueExpr; right: ValueExpr; caseInsensitive?: boolean }
  | { type: 'in'; arg: ValueExpr; values: ValueExpr[]; caseInsensitive?: boolean }
  /** EQL `:`, `like`, `regex` (and their `~` forms): any pattern matching makes it true. */
  | { type: 'match'; op: 'wildcard' | 'regex'; arg: ValueExpr; patterns: ValueExpr[]; caseInsensitive?: boolean }
  | { type: 'and'; args: ValueExpr[] }
  | { type: 'or'; args: ValueExpr[] }
  | { type: 'not'; arg: ValueExpr };

/* ------------------------------------------------------------------------------------------ */
/* Stages                                                                                      */
/* ------------------------------------------------------------------------------------------ */

export interface FilterStage {
  type: 'filter';
  predicate: Predicate;
}

/**
 * One alert per key per window. The window opens at the first match and lasts `periodMs`;
 * an alert is raised when `threshold` matches (or distinct `unique` values) are reached inside
 * it; later matches in the window attach to that alert (count, last seen) instead of raising.
 */
export interface DedupStage {
  type: 'dedup';
  /** Fields whose values form the key; empty = one key per rule. */
  key: FieldRef[];
  periodMs: number;
  threshold: number;
  /** Count distinct values of these fields instead of matches. */
  unique?: FieldRef[];
  /**
   * Panther: the key is the rule's dedup string (dedup() -> title -> `defaultDedupString:<RuleID>`,
   * 1000 characters, from `RuleIR.panther`) instead of `key` fields; with `uniqueFn`, distinct
   * values of the body's `unique()` are counted.
   */
  pantherKey?: boolean;
  uniqueFn?: boolean;
}

/** Elastic new_terms: alert when the tuple of values is first seen within the history window. */
export interface NewTermsStage {
  type: 'new_terms';
  fields: FieldRef[];
  historyMs: number;
}

/** Elastic threshold: count (or cardinality) per group within a window. */
export interface ThresholdStage {
  type: 'threshold';
  groupBy: FieldRef[];
  value: number;
  windowMs: number;
  cardinality?: { field: FieldRef; value: number }[];
}

/** One step of a sequence or sample: the events it takes and its own join keys. */
export interface SequenceStep {
  predicate: Predicate;
  /** Join keys of this step (EQL `[...] by k`), after the sequence-wide `by` keys. */
  by?: ValueExpr[];
  /** EQL `![...]`: no such event may occur at this position (needs `maxspanMs`). */
  missing?: boolean;
  /** EQL `with runs=N`: the step repeats N times (1..100). */
  runs?: number;
}

/**
 * EQL `sequence`: events matching the steps in order, with equal join keys, all within
 * `maxspanMs` of the first. One pending sequence per (step, key): a newer one replaces the older
 * (Elasticsearch's state machine). `until` drops the pending sequences of its key. The stage
 * reads events (its rule's head filter is the OR of the steps), not another stage's matches.
 */
export interface SequenceStage {
  type: 'sequence';
  by: ValueExpr[];
  maxspanMs?: number;
  steps: SequenceStep[];
  until?: { predicate: Predicate; by?: ValueExpr[] };
  /** Join keys compare case-insensitively (the Python reference engine; not Elasticsearch). */
  caseInsensitiveKeys?: boolean;
  semantics?: ExprSemantics;
  /**
   * Without `maxspanMs`: how long (event time, from its first event) a pending sequence is kept
   * waiting for its next events. An Elastic rule sets its look-back (Kibana never finds a
   * sequence longer than one execution's range); unset = until `until`, no expiry.
   * Ignored when `maxspanMs` is set.
   */
  stateTtlMs?: number;
}

/** EQL `sample by k [...] [...]`: one event per step with equal keys, in any order, no time bound. */
export interface SampleStage {
  type: 'sample';
  by: ValueExpr[];
  steps: SequenceStep[];
  semantics?: ExprSemantics;
}

/**
 * EQL pipes. A scheduled rule applies them to the results of one execution, so here they apply
 * per window of `windowMs` of event time (the rule's interval); `Infinity` = the whole input
 * (a one-off query, the conformance suite). `head`/`filter` pass results on at once; `tail`,
 * `sort`, `unique`, `count` and `unique_count` emit when the window closes.
 */
export interface PipeStage {
  type: 'pipe';
  pipe: 'head' | 'tail' | 'filter' | 'unique' | 'unique_count' | 'count' | 'sort';
  /** head / tail */
  n?: number;
  /** filter */
  predicate?: Predicate;
  /** unique / unique_count / count / sort keys */
  keys?: ValueExpr[];
  windowMs: number;
  semantics?: ExprSemantics;
  /** Python case-insensitive mode: string keys fold case (unique, sort, unique_count; count groups). */
  caseInsensitive?: boolean;
  /** Python pipes after a sequence/sample: `events[n].x` reads the n-th event of the result. */
  resultEvents?: boolean;
}

/**
 * Elastic alert suppression: one alert per group; later matches of the group increment
 * `kibana.alert.suppression.docs_count` and move `.end` instead of raising alerts.
 */
export interface SuppressStage {
  type: 'suppress';
  groupBy: FieldRef[];
  /** The suppression window; undefined = per rule execution (a window of `intervalMs`). */
  durationMs?: number;
  intervalMs: number;
  /** A missing group-by field: `suppress` groups it as null; `doNotSuppress` alerts every event. */
  missingFields: 'suppress' | 'doNotSuppress';
  /** Multi-valued group-by fields: one group per value (query, threshold) or the array as one value. */
  arrays: 'explode' | 'whole';
}

/** How a correlation compares its measure: `gte: 10`; several bounds are ANDed (a range). */
export type CorrelationOp = 'gt' | 'gte' | 'lt' | 'lte' | 'eq' | 'neq';

/**
 * One referenced rule of a correlation (Sigma `rules:` entry, Panther Group/Sequence member).
 * Absent when the correlation only lists `rules` (every member then reads `groupBy`).
 */
export interface CorrelationMember {
  /** The referenced rule: its id, else its name (`kibana.alert.rule.rule_id` / `.name` of its alerts). */
  rule: string;
  /** Panther `ID` of the member (shown in explain and in the alert). */
  label?: string;
  /** The key fields on this member's alerts, one per `groupBy` entry (Sigma aliases, Panther MatchCriteria / Transition Match). */
  keys?: FieldRef[];
  /** Panther `MinMatchCount`: signals of this member needed (default 1). */
  minCount?: number;
  /** Panther `Absence: true`: the correlation matches only when this member has no signal (see correlation.ts). */
  absent?: boolean;
  /** Ordered correlations: the most time from the previous member's signal (Panther `WithinTimeFrameMinutes`). */
  withinMs?: number;
}

/**
 * Sigma / Panther correlation over the alerts of other rules (src/engine/stages/correlation.ts).
 * The rule reads alerts (`input: 'alerts'`); its head filter selects the referenced rules' alerts.
 */
export interface CorrelationStage {
  type: 'correlation';
  kind:
    | 'event_count'
    | 'value_count'
    | 'temporal'
    | 'temporal_ordered'
    | 'value_sum'
    | 'value_avg'
    | 'value_percentile'
    | 'value_median';
  /** Referenced rules (ids or names), in the rule's order. */
  rules: string[];
  /** Per-member details; when absent, one plain member per `rules` entry. */
  members?: CorrelationMember[];
  /**
   * Group-by fields (AND-linked key). Schema `okta`: raw Okta paths as the referenced rules write
   * them, read on alert documents through the ECS mapping (src/schema/raw-on-alert.ts).
   */
  groupBy: FieldRef[];
  timespanMs: number;
  /**
   * The measure's bound(s): `op`/`value`, plus `and` for a range (Sigma `gt: 100, lte: 200`).
   * `field`: the value_* field (`fields`: value_count over a tuple of fields); `percentile` for
   * value_percentile (1..100).
   */
  condition: {
    op: CorrelationOp;
    value: number;
    field?: FieldRef;
    fields?: FieldRef[];
    percentile?: number;
    and?: { op: CorrelationOp; value: number }[];
  };
  /**
   * Sigma `generate` (default false): when false, the referenced rules' own alerts are hidden
   * (stored and fed to correlations, not delivered to the sinks). Unset for Panther.
   */
  generate?: boolean;
}

export type Stage =
  | FilterStage
  | DedupStage
  | NewTermsStage
  | ThresholdStage
  | SequenceStage
  | SampleStage
  | PipeStage
  | SuppressStage
  | CorrelationStage;
export type StageType = Stage['type'];

/* ------------------------------------------------------------------------------------------ */
/* Rules                                                                                       */
/* ------------------------------------------------------------------------------------------ */

export type Dialect = 'sigma' | 'elastic' | 'panther' | 'typescript';

/** Normalised severity, shared by all dialects (Kibana's four plus informational). */
export type Severity = 'informational' | 'low' | 'medium' | 'high' | 'critical';

export interface ThreatRef {
  framework: string;
  tactic?: { id: string; name: string };
  techniques: { id: string; name: string; subtechniques?: { id: string; name: string }[] }[];
}

export interface RuleIR {
  /** The rule's own id (Sigma id, Elastic rule_id, Panther RuleID). */
  id: string;
  name: string;
  dialect: Dialect;
  /** Dialect-specific rule type: sigma `detection`, elastic `query`/`eql`/`new_terms`…, panther `rule`. */
  ruleType: string;
  /** The file the rule came from. */
  file: string;
  description?: string;
  severity: Severity;
  /** The dialect's own severity word (Sigma level, Panther Severity) before normalisation. */
  severityRaw?: string;
  riskScore: number;
  tags: string[];
  threat: ThreatRef[];
  references: string[];
  falsePositives: string[];
  author?: string;
  /**
   * Which events the rule reads: Okta System Log events, alerts of other rules, or both (an
   * Elastic rule whose `index` names Okta logs and `.alerts-security.*`).
   */
  input: 'okta' | 'alerts' | 'both';
  stages: Stage[];
  /** Elastic building-block rules: alerts are written but hidden from the default view. */
  buildingBlock?: boolean;
  /** Whether the rule is enabled (Panther `Enabled`, Sigma status deprecated → false). */
  enabled: boolean;
  /**
   * Severity override (Elastic `severity_mapping`): when the alert's source event has `field`
   * equal to `value`, the alert's severity is `severity`; the highest matching severity wins.
   */
  severityMapping?: { field: FieldRef; value: string; severity: Severity }[];
  /** Risk score override (Elastic `risk_score_mapping`): a numeric field of the source event (0–100). */
  riskScoreField?: FieldRef;
  /** Panther alert presentation (title, dedup string, dynamic severity, alert context…). */
  panther?: PantherSpec;
  /**
   * Exception items attached from `--exceptions` (src/exceptions, docs/exceptions.md): an event
   * the rule's own filter matches is dropped when any item matches it, before every stage.
   */
  exceptions?: RuleException[];
  /**
   * Exception lists the rule itself names (Elastic `exceptions_list`). `attached`: the list was
   * provided (src/exceptions); a rule naming a list that was not provided cannot run.
   */
  exceptionLists?: { listId: string; namespaceType: 'single' | 'agnostic'; attached?: boolean }[];
}

/**
 * One exception item on a rule: `predicate` is the AND of the item's entries as ordinary IR
 * predicates. `expireTime` (ISO-8601, Kibana's `expire_time`): from that event time on, the item
 * no longer applies.
 */
export interface RuleException {
  list: string;
  listName?: string;
  item: string;
  name: string;
  predicate: Predicate;
  /** Where the item was written (`file:line`, or `file: list 'x' item 'y'`). */
  source: string;
  expireTime?: string;
}

/** Panther body-function names besides `rule` (pypanther `Rule` methods). */
export type PantherFunction =
  | 'title'
  | 'dedup'
  | 'alert_context'
  | 'severity'
  | 'description'
  | 'reference'
  | 'runbook'
  | 'destinations'
  | 'unique';

/**
 * How a Panther rule presents its alerts. Either a code module's functions, or the YAML simple
 * detection's data (AlertTitle, AlertContext, GroupBy, DynamicSeverities), or neither (the
 * fallbacks: title = DisplayName -> RuleID, dedup = title, severity = the rule's).
 */
export interface PantherSpec {
  /** Absolute path of the TypeScript/JavaScript (or Python) body, when the rule has one. */
  module?: string;
  /** The code runtime of `module` (default 'javascript'; 'python' for `.py` bodies). */
  runtime?: 'javascript' | 'python';
  /** The presentation functions the module exports. */
  functions: PantherFunction[];
  /** `DisplayName` (title fallback; `name` falls back to the RuleID). */
  displayName?: string;
  /** YAML `AlertTitle`: `{field.path}` placeholders read the event (okta schema). */
  titleTemplate?: string;
  /** YAML `AlertContext`: key -> field value. */
  context?: { key: string; field: FieldRef }[];
  /** YAML `GroupBy`: the dedup string is these fields' values (joined by `:`). */
  groupBy?: FieldRef[];
  /** YAML `DynamicSeverities`: the first entry whose predicate matches sets the severity. */
  dynamicSeverities?: { severity: Severity | 'default'; predicate: Predicate }[];
  runbook?: string;
  reference?: string;
  summaryAttributes?: string[];
  /** `CreateAlert: false`: matches are signals (kept for correlation), not alerts to route. */
  createAlert: boolean;
  /** Panther `Reports` (framework -> ids). */
  reports?: Record<string, string[]>;
  logTypes: string[];
  /** `Tests:` of the YAML, kept for `oktopus test` (Log, ExpectedResult, Mocks, expectations). */
  tests?: PantherTest[];
  /** `InlineFilters` (already ANDed into the filter stage; kept for explain). */
  inlineFilters?: boolean;
}

export interface PantherTest {
  name: string;
  expectedResult: boolean;
  log: unknown;
  mocks?: { objectName: string; returnValue: unknown }[];
  /** pypanther-style expectations, checked when given. */
  expectedTitle?: string;
  expectedDedup?: string;
  expectedSeverity?: string;
  expectedAlertContext?: unknown;
}

/** A rule file that was recognised but cannot run here, with the reason shown to the user. */
export interface UnsupportedRule {
  id: string;
  name: string;
  dialect: Dialect;
  ruleType: string;
  file: string;
  reason: string;
  /** Rules for another log source (a Windows Sigma rule) are "skipped", not "unsupported". */
  status: 'unsupported' | 'not-applicable';
}
