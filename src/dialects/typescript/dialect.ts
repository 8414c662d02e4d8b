/**
 * Rules written as TypeScript/JavaScript modules (Panther's function set: rule, title, dedup…).
 *
 * A module that is the body of a Panther YAML beside it (the YAML's `Filename:` names it, or
 * names a `.py` file with the same base name) is not a rule of its own: the Panther dialect runs
 * it with the YAML's metadata, so it is skipped here. A standalone module (no YAML) that exports
 * rule() is listed by name as not yet supported (its metadata would have to live in the module).
 * Any other module in a rules folder is a helper (imported by bodies): this dialect claims it so
 * that loading a folder passes over it silently — it is never run here, only read as text.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import type { DialectModule } from '../types.js';

/** Is `file` the body of a Panther YAML in its folder? */
export function isPantherBody(file: string): boolean {
  const dir = dirname(file);
  const name = basename(file);
  const stem = basename(file, extname(file));
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return false;
  }
  for (const e of entries) {
    if (!/\.ya?ml$/i.test(e)) continue;
    const p = join(dir, e);
    if (!existsSync(p)) continue;
    let text: string;
    try {
      text = readFileSync(p, 'utf8');
    } catch {
      continue;
    }
    const m = /^Filename:\s*["']?([^"'\n#]+?)["']?\s*(#.*)?$/m.exec(text);
    if (!m) continue;
    const target = m[1]!.trim();
    if (target === name || basename(target, extname(target)) === stem) return true;
  }
  return false;
}

/** Does a module's text export rule()? (ESM `export function rule`, CommonJS `exports.rule =`). */
const RULE_EXPORT = /export\s+(function|const|let|async\s+function)\s+rule\b|\bexports\.rule\s*=/;

export const dialect: DialectModule = {
  name: 'typescript',
  extensions: ['.ts', '.mts', '.js', '.mjs'],
  // Every module: a body, a standalone rule, or a helper (see above).
  recognise: () => true,
  parse(text, file) {
    if (!RULE_EXPORT.test(text) || isPantherBody(file)) return { rules: [], unsupported: [] };
    const id = /RuleID\s*[:=]\s*['"]([^'"]+)['"]/.exec(text)?.[1] ?? basename(file).replace(/\.[^.]+$/, '');
    return {
      rules: [],
      unsupported: [
        {
          id,
          name: id,
          dialect: 'typescript',
          ruleType: 'module',
          file,
          status: 'unsupported',
          reason: 'not yet supported: a standalone typescript/module (give it a Panther YAML beside it with Filename: naming it)',
        },
      ],
    };
  },
};
