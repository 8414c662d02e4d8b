/**
 * Loading rule bodies written in TypeScript or JavaScript, synchronously (rules are parsed and
 * compiled synchronously).
 *
 * Node 20 cannot import `.ts` files, and `import()` is asynchronous, so a body is transpiled
 * with the `typescript` package (`transpileModule`: syntax only, no type check; types are
 * erased) to CommonJS and evaluated in this process with its own `require`:
 *  - `oktopus/panther` (or `oktopus`) is the Panther helper library (../panther/helpers.ts);
 *  - relative imports load other `.ts`/`.js` modules the same way (`./x.js` finds `./x.ts`, as
 *    TypeScript's NodeNext convention writes it), `.json` files are parsed;
 *  - anything else (node:* builtins, installed packages) is Node's own `require` from the body's
 *    folder.
 * Modules are cached per path and reloaded when the file changes. Test mocks (Panther `Mocks:`)
 * load a fresh instance in which every imported binding named like a mock is replaced by a
 * function returning the mock's value.
 *
 * A body runs with this process's privileges: rules are code, load only rules you trust.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, extname, isAbsolute, resolve } from 'node:path';
import { runInThisContext } from 'node:vm';
import * as helpers from '../panther/helpers.js';

export type CodeModule = Record<string, unknown>;

export class ModuleError extends Error {
  constructor(
    readonly file: string,
    readonly detail: string,
  ) {
    super(`${file}: ${detail}`);
    this.name = 'ModuleError';
  }
}

export interface Mock {
  objectName: string;
  returnValue: unknown;
}

export const CODE_EXTENSIONS = ['.ts', '.mts', '.cts', '.js', '.mjs'];

const cache = new Map<string, { mtime: number; size: number; exports: CodeModule }>();

type TS = typeof import('typescript');
let tsLib: TS | undefined;

function typescript(): TS {
  if (!tsLib) {
    try {
      tsLib = createRequire(import.meta.url)('typescript') as TS;
    } catch {
      throw new Error("rule bodies need the 'typescript' package (npm install typescript)");
    }
  }
  return tsLib;
}

function transpile(source: string, file: string): string {
  const ts = typescript();
  const out = ts.transpileModule(source, {
    fileName: file,
    reportDiagnostics: true,
    compilerOptions: {
      module: ts.ModuleKind.CommonJS,
      target: ts.ScriptTarget.ES2022,
      esModuleInterop: true,
      allowJs: true,
      sourceMap: false,
      inlineSourceMap: false,
    },
  });
  const diag = out.diagnostics?.find((d) => d.category === ts.DiagnosticCategory.Error);
  if (diag) {
    const text = ts.flattenDiagnosticMessageText(diag.messageText, '\n');
    if (diag.file && diag.start !== undefined) {
      const pos = diag.file.getLineAndCharacterOfPosition(diag.start);
      throw new ModuleError(`${file}:${pos.line + 1}:${pos.character + 1}`, text);
    }
    throw new ModuleError(file, text);
  }
  return out.outputText;
}

/** Resolve a relative import of a body to a file (`./x`, `./x.js` -> `./x.ts`, `./dir/index.ts`). */
function resolveRelative(spec: string, from: string): string | undefined {
  const base = resolve(dirname(from), spec);
  const candidates = [base];
  const ext = extname(base);
  if (['.js', '.mjs', '.cjs'].includes(ext)) {
    const stem = base.slice(0, -ext.length);
    candidates.push(stem + { '.js': '.ts', '.mjs': '.mts', '.cjs': '.cts' }[ext]!);
  }
  for (const e of [...CODE_EXTENSIONS, '.json']) candidates.push(base + e);
  for (const e of CODE_EXTENSIONS) candidates.push(resolve(base, 'index' + e));
  return candidates.find((c) => existsSync(c) && statSync(c).isFile());
}

function applyMocks(exports: unknown, mocks: Mock[] | undefined): unknown {
  if (!mocks || mocks.length === 0 || exports === null || (typeof exports !== 'object' && typeof exports !== 'function')) return exports;
  const out: Record<string, unknown> = { ...(exports as Record<string, unknown>) };
  for (const m of mocks) out[m.objectName] = () => m.returnValue;
  return out;
}

function evaluate(file: string, mocks: Mock[] | undefined, loading: Set<string>): CodeModule {
  let source: string;
  try {
    source = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ModuleError(file, (e as Error).message);
  }
  const ext = extname(file).toLowerCase();
  const code = ext === '.cjs' ? source : transpile(source, file);
  const nodeRequire = createRequire(file);
  const module = { exports: {} as CodeModule };
  const localRequire = (spec: string): unknown => {
    if (spec === 'oktopus/panther' || spec === 'oktopus') return applyMocks(helpers, mocks);
    if (spec.startsWith('.') || isAbsolute(spec)) {
      const target = resolveRelative(spec, file);
      if (!target) throw new Error(`cannot find module '${spec}' from ${file}`);
      if (target.endsWith('.json')) return JSON.parse(readFileSync(target, 'utf8'));
      return applyMocks(loadInternal(target, mocks, loading), mocks);
    }
    return applyMocks(nodeRequire(spec), mocks);
  };
  const wrapper = runInThisContext(`(function (exports, require, module, __filename, __dirname) {${code}\n})`, { filename: file }) as (
    ...args: unknown[]
  ) => void;
  try {
    wrapper(module.exports, localRequire, module, file, dirname(file));
  } catch (e) {
    throw new ModuleError(file, `loading the module failed: ${(e as Error)?.message ?? String(e)}`);
  }
  return module.exports;
}

function loadInternal(file: string, mocks: Mock[] | undefined, loading: Set<string>): CodeModule {
  if (loading.has(file)) throw new ModuleError(file, 'circular import between rule modules');
  loading.add(file);
  try {
    if (mocks && mocks.length > 0) return evaluate(file, mocks, loading);
    let st;
    try {
      st = statSync(file);
    } catch (e) {
      throw new ModuleError(file, (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message);
    }
    const hit = cache.get(file);
    if (hit && hit.mtime === st.mtimeMs && hit.size === st.size) return hit.exports;
    const exports = evaluate(file, undefined, loading);
    cache.set(file, { mtime: st.mtimeMs, size: st.size, exports });
    return exports;
  } finally {
    loading.delete(file);
  }
}

let mockScope: { mocks: Mock[]; instances: Map<string, CodeModule> } | undefined;

/**
 * Run `fn` with test mocks active: `currentModule` then returns fresh module instances whose
 * imported bindings named like a mock return the mock's value.
 */
export function withMocks<T>(mocks: Mock[] | undefined, fn: () => T): T {
  if (!mocks || mocks.length === 0) return fn();
  const saved = mockScope;
  mockScope = { mocks, instances: new Map() };
  try {
    return fn();
  } finally {
    mockScope = saved;
  }
}

/** The module to call now: the cached one, or inside `withMocks` the mocked instance. */
export function currentModule(file: string, loaded: CodeModule): CodeModule {
  if (!mockScope) return loaded;
  let m = mockScope.instances.get(file);
  if (!m) {
    m = loadCodeModule(file, mockScope.mocks);
    mockScope.instances.set(file, m);
  }
  return m;
}

/** Load (once; again when the file changed) a TypeScript/JavaScript body. Throws ModuleError. */
export function loadCodeModule(file: string, mocks?: Mock[]): CodeModule {
  return loadInternal(resolve(file), mocks, new Set());
}

/** The exported function `name` of a module (also found as its camelCase spelling), if any. */
export function exportedFunction(mod: CodeModule, name: string): ((...args: unknown[]) => unknown) | undefined {
  const camel = name.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
  const f = mod[name] ?? mod[camel] ?? (mod['default'] as CodeModule | undefined)?.[name];
  return typeof f === 'function' ? (f as (...args: unknown[]) => unknown) : undefined;
}

/**
 * The functions a body exports, read from its source without running it (TypeScript's parser:
 * `export function f`, `export const f =`, `export { a as f }`, `export { f } from './x'`,
 * `export * from './x'` followed, CommonJS `exports.f =`, `module.exports.f =`,
 * `module.exports = { f, … }`). `complete` is false when an export cannot be read this way
 * (a computed `module.exports`, `export default` of something else than an object literal…).
 * A syntax error is a ModuleError, as loading would raise.
 */
export function staticExports(file: string, seen: Set<string> = new Set()): { names: Set<string>; complete: boolean } {
  const names = new Set<string>();
  let complete = true;
  const path = resolve(file);
  if (seen.has(path)) return { names, complete };
  seen.add(path);
  let source: string;
  try {
    source = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ModuleError(path, (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message);
  }
  if (extname(path).toLowerCase() !== '.cjs') transpile(source, path); // syntax errors, as loading reports them
  const ts = typescript();
  const sf = ts.createSourceFile(path, source, ts.ScriptTarget.ES2022, false);
  const isExported = (n: import('typescript').Node): boolean =>
    ts.canHaveModifiers(n) && (ts.getModifiers(n) ?? []).some((m) => m.kind === ts.SyntaxKind.ExportKeyword);
  const objectKeys = (o: import('typescript').Expression): void => {
    if (!ts.isObjectLiteralExpression(o)) {
      complete = false;
      return;
    }
    for (const p of o.properties) {
      if (p.name && (ts.isIdentifier(p.name) || ts.isStringLiteral(p.name))) names.add(p.name.text);
      else complete = false;
    }
  };
  const follow = (spec: string): void => {
    const target = spec.startsWith('.') ? resolveRelative(spec, path) : undefined;
    if (!target || target.endsWith('.json')) {
      complete = false;
      return;
    }
    const sub = staticExports(target, seen);
    sub.names.forEach((n) => names.add(n));
    if (!sub.complete) complete = false;
  };
  for (const st of sf.statements) {
    if ((ts.isFunctionDeclaration(st) || ts.isClassDeclaration(st)) && isExported(st) && st.name) names.add(st.name.text);
    else if (ts.isVariableStatement(st) && isExported(st)) {
      for (const d of st.declarationList.declarations) if (ts.isIdentifier(d.name)) names.add(d.name.text);
    } else if (ts.isExportDeclaration(st)) {
      const from = st.moduleSpecifier && ts.isStringLiteral(st.moduleSpecifier) ? st.moduleSpecifier.text : undefined;
      if (!st.exportClause) {
        if (from) follow(from);
      } else if (ts.isNamedExports(st.exportClause)) {
        for (const e of st.exportClause.elements) names.add(e.name.text);
      } else complete = false;
    } else if (ts.isExportAssignment(st)) {
      // `export default { rule, title }` / `export = {…}`.
      objectKeys(st.expression);
    } else if (ts.isExpressionStatement(st) && ts.isBinaryExpression(st.expression) && st.expression.operatorToken.kind === ts.SyntaxKind.EqualsToken) {
      const left = st.expression.left.getText(sf).replace(/\s+/g, '');
      const m = /^(?:module\.)?exports\.([A-Za-z_$][\w$]*)$/.exec(left) ?? /^(?:module\.)?exports\[['"]([^'"]+)['"]\]$/.exec(left);
      if (m) names.add(m[1]!);
      else if (left === 'module.exports') objectKeys(st.expression.right);
      else if (/^(?:module\.)?exports\b/.test(left)) complete = false;
    }
  }
  return { names, complete };
}

/** `staticExports` has the exported function `name` (or its camelCase spelling). */
export function staticallyExports(names: Set<string>, name: string): boolean {
  return names.has(name) || names.has(name.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()));
}
