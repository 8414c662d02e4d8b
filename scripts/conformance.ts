/**
 * `npm run conformance [DIR]`: load the real rules of every vendor (default ../shared/corpus,
 * skipped with a message when absent) and print, per dialect, how many rules loaded, compiled,
 * are not applicable to Okta, and are not supported (with the reasons, grouped).
 * Then the conformance suites: EQL (the Python engine's suite in DIR/eql, scripts/eql-conformance.ts;
 * `--verbose` lists each failure).
 * Exits 1 when a rule file fails to parse or a loaded rule fails to compile.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadRules } from '../src/rules/load.js';
import { Engine } from '../src/engine/engine.js';
import { MemoryStore } from '../src/store/memory.js';
import { formatEqlConformance, runEqlConformance } from './eql-conformance.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const args = process.argv.slice(2);
/** `--verbose`: list every EQL conformance failure, not only the counts by reason. */
const verbose = args.includes('--verbose');
const dir = resolve(args.find((a) => !a.startsWith('--')) ?? join(root, '..', 'shared', 'corpus'));

const SAMPLE_PLACEHOLDERS: Record<string, string[]> = { legtimate_identifiers: ['@example.com'] };

interface Row {
  dialect: string;
  files: number;
  loaded: number;
  compiled: number;
  notApplicable: number;
  unsupported: number;
  errors: number;
  reasons: Map<string, number>;
}

async function main(): Promise<number> {
  if (!existsSync(dir)) {
    console.log(`conformance: ${dir} is absent; nothing to check (a clone without ../shared has no corpus).`);
    return 0;
  }
  const suites: [string, string[]][] = [
    ['sigma', [join(dir, 'sigma')]],
    ['elastic', [join(dir, 'elastic')]],
    ['panther', [join(dir, 'panther', 'rules'), join(dir, 'panther', 'correlation_rules')]],
  ];
  let failed = false;
  const rows: Row[] = [];
  for (const [dialect, paths] of suites) {
    const present = paths.filter((p) => existsSync(p));
    if (present.length === 0) {
      console.log(`${dialect}: no folder in ${dir}; skipped`);
      continue;
    }
    // Placeholder values (Sigma |expand) are site configuration: the run sets sample values so
    // rules that need them compile; a user sets theirs with --placeholder or the config file.
    const loaded = await loadRules(present, { placeholders: SAMPLE_PLACEHOLDERS });
    const engine = new Engine(loaded.rules, { schema: { org: 'conformance.okta.com' }, store: new MemoryStore() });
    const reasons = new Map<string, number>();
    for (const u of [...loaded.unsupported, ...engine.unsupported]) {
      const key = `${u.status === 'not-applicable' ? 'not applicable' : 'unsupported'}: ${u.reason.replace(/\(body [^)]*\)/, "(python body)").replace(/\(needs the Elastic ML job [^)]*\)/, "(needs an Elastic ML job)")}`;
      reasons.set(key, (reasons.get(key) ?? 0) + 1);
    }
    const row: Row = {
      dialect,
      files: loaded.files,
      loaded: loaded.rules.length,
      compiled: engine.compiled.length,
      notApplicable: loaded.unsupported.filter((u) => u.status === 'not-applicable').length,
      unsupported: loaded.unsupported.filter((u) => u.status === 'unsupported').length + engine.unsupported.length,
      errors: loaded.errors.length,
      reasons,
    };
    rows.push(row);
    for (const e of loaded.errors) console.log(`  error: ${e.message}`);
    for (const u of engine.unsupported) console.log(`  compile error: ${u.file}: ${u.reason}`);
    const disabled = loaded.rules.filter((r) => !r.enabled).length;
    if (loaded.errors.some((e) => !/not a rule of any known dialect/.test(e.message)) || engine.unsupported.length > 0) failed = true;
    if (disabled) row.reasons.set(`loaded but disabled by the rule itself`, disabled);
  }
  console.log(`Sigma placeholders set for this run: ${JSON.stringify(SAMPLE_PLACEHOLDERS)}`);
  console.log('');
  console.log('dialect   files  loaded  compiled  unsupported  not-for-okta  file-errors');
  for (const r of rows) {
    console.log(
      `${r.dialect.padEnd(8)} ${String(r.files).padStart(6)} ${String(r.loaded).padStart(7)} ${String(r.compiled).padStart(9)} ${String(r.unsupported).padStart(12)} ${String(r.notApplicable).padStart(13)} ${String(r.errors).padStart(12)}`,
    );
  }
  for (const r of rows) {
    if (r.reasons.size === 0) continue;
    console.log(`\n${r.dialect}:`);
    for (const [reason, n] of [...r.reasons].sort((a, b) => b[1] - a[1])) console.log(`  ${String(n).padStart(3)}  ${reason}`);
  }
  console.log('\nconformance suites:');
  console.log('  sigma: none run (no vendor-neutral Sigma rule+event suite exists; the project tests its own fixtures)');
  if (existsSync(join(dir, 'eql'))) for (const line of formatEqlConformance(runEqlConformance(join(dir, 'eql')), verbose)) console.log(line);
  else console.log(`  eql: no eql folder in ${dir}; skipped`);
  return failed ? 1 : 0;
}

main().then(
  (code) => (process.exitCode = code),
  (e) => {
    console.error(`conformance: ${(e as Error).stack ?? e}`);
    process.exitCode = 2;
  },
);
