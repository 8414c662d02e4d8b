/**
 * Loading rules: `--rules` takes files and folders (recursively, repeatable). Each file's
 * dialect is recognised from its content, by the dialects found in src/dialects/<name>/dialect.js
 * (which may also export `runtimes`: the code runtimes its rule bodies need, registered here).
 * A file with an error is reported (file:line:col: message) and skipped; every other file is kept.
 */
import { readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { expandPaths } from '../util/walk.js';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RuleIR, UnsupportedRule } from '../ir/types.js';
import type { DialectModule, DialectOptions } from '../dialects/types.js';
import { RuleError } from '../dialects/errors.js';
import { registerCodeRuntimes, type CodeRuntime } from '../engine/code/registry.js';

export interface LoadError {
  file: string;
  message: string;
}

export interface LoadedRules {
  rules: RuleIR[];
  unsupported: UnsupportedRule[];
  errors: LoadError[];
  files: number;
}

let dialectsCache: DialectModule[] | undefined;

/** Every dialect folder that ships a dialect module. */
export async function dialects(): Promise<DialectModule[]> {
  if (dialectsCache) return dialectsCache;
  const dir = fileURLToPath(new URL('../dialects/', import.meta.url));
  const found: DialectModule[] = [];
  for (const name of readdirSync(dir).sort()) {
    const file = join(dir, name, 'dialect.js');
    try {
      statSync(file);
    } catch {
      continue;
    }
    const mod = (await import(new URL(`../dialects/${name}/dialect.js`, import.meta.url).href)) as { dialect?: DialectModule; runtimes?: readonly CodeRuntime[] };
    if (mod.dialect) found.push(mod.dialect);
    // The code runtimes its rule bodies need (src/engine/code/registry.ts).
    registerCodeRuntimes(mod.runtimes);
  }
  dialectsCache = found;
  return found;
}

export async function loadRules(paths: string[], options: DialectOptions = {}): Promise<LoadedRules> {
  const ds = await dialects();
  const extensions = new Set(ds.flatMap((d) => d.extensions));
  const result: LoadedRules = { rules: [], unsupported: [], errors: [], files: 0 };
  // Named files are read whatever their ending; folders contribute the files a dialect reads.
  const files = expandPaths(paths, {
    accept: (name: string) => extensions.has(extname(name).toLowerCase()),
    skip: ['node_modules'],
    onError: (file: string, reason: string) => result.errors.push({ file, message: `${file}: ${reason}` }),
  });
  const unique = new Set<string>();
  for (const file of files) {
    const real = realpathSync(file);
    if (unique.has(real)) continue; // named twice (a file inside a folder also given)
    unique.add(real);
    result.files++;
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      result.errors.push({ file, message: `${file}: ${(e as Error).message}` });
      continue;
    }
    const ext = extname(file).toLowerCase();
    const dialect = ds.find((d) => d.extensions.includes(ext) && d.recognise(text, file));
    if (!dialect) {
      // Files that sit beside rules (Panther .py bodies, READMEs) are not rules; a file that was
      // named explicitly or has a rule-file ending but no dialect recognises it is an error.
      if (!['.py', '.md', '.txt'].includes(ext)) {
        result.errors.push({ file, message: `${file}: not a rule of any known dialect (sigma, elastic, panther, typescript)` });
      }
      continue;
    }
    try {
      const parsed = dialect.parse(text, file, options);
      result.rules.push(...parsed.rules);
      result.unsupported.push(...parsed.unsupported);
    } catch (e) {
      const message = e instanceof RuleError ? e.message : `${file}: ${(e as Error).message}`;
      result.errors.push({ file, message });
    }
  }
  checkDuplicateIds(result);
  return result;
}

/** Two loaded rules with the same dialect and id would share state and alert ids. */
function checkDuplicateIds(result: LoadedRules): void {
  const seen = new Map<string, string>();
  const kept: RuleIR[] = [];
  for (const r of result.rules) {
    const key = `${r.dialect}:${r.id}`;
    const first = seen.get(key);
    if (first) {
      result.errors.push({ file: r.file, message: `${r.file}: rule id ${r.id} is already loaded from ${first}; this copy is skipped` });
      continue;
    }
    seen.set(key, r.file);
    kept.push(r);
  }
  result.rules = kept;
}
