/**
 * Loading rules: `--rules` takes files and folders (recursively, repeatable). Each file's
 * dialect is recognised from its content, by the dialects found in src/dialects/<name>/dialect.js.
 * A file with an error is reported (file:line:col: message) and skipped; every other file is kept.
 */
import { readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RuleIR, UnsupportedRule } from '../ir/types.js';
import type { DialectModule, DialectOptions } from '../dialects/types.js';
import { RuleError } from '../dialects/errors.js';

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
    const mod = (await import(new URL(`../dialects/${name}/dialect.js`, import.meta.url).href)) as { dialect?: DialectModule };
    if (mod.dialect) found.push(mod.dialect);
  }
  dialectsCache = found;
  return found;
}

/**
 * Files below `path` (or `path` itself) with an ending some dialect reads. An entry that cannot
 * be read (a dangling link, a link loop) becomes an error of its own; the walk goes on.
 */
function ruleFiles(path: string, extensions: Set<string>, explicit: boolean, out: string[], errors: LoadError[], visited: Set<string>): void {
  let st;
  try {
    st = statSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    errors.push({ file: path, message: `${path}: ${code === 'ENOENT' ? (explicit ? 'no such file or folder' : 'dangling link') : (e as Error).message}` });
    return;
  }
  if (st.isDirectory()) {
    const real = realpathSync(path);
    if (visited.has(real)) return;
    visited.add(real);
    for (const name of readdirSync(path).sort()) {
      if (name.startsWith('.') || name === 'node_modules') continue;
      ruleFiles(join(path, name), extensions, false, out, errors, visited);
    }
  } else if (explicit || extensions.has(extname(path).toLowerCase())) {
    out.push(path);
  }
}

export async function loadRules(paths: string[], options: DialectOptions = {}): Promise<LoadedRules> {
  const ds = await dialects();
  const extensions = new Set(ds.flatMap((d) => d.extensions));
  const result: LoadedRules = { rules: [], unsupported: [], errors: [], files: 0 };
  const files: string[] = [];
  const visited = new Set<string>();
  for (const p of paths) ruleFiles(p, extensions, true, files, result.errors, visited);
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
