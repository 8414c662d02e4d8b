/**
 * The files below a folder, sorted, recursively, for rule folders and input folders alike.
 * Names starting with '.' (and those in `skip`) are passed over; a folder reached twice through
 * links is read once; an entry that cannot be read (a dangling link, a link loop) goes to
 * `onError` and the walk goes on.
 */
import { readdirSync, realpathSync, statSync } from 'node:fs';
import { join } from 'node:path';

export interface WalkOptions {
  /** Keep a file with this name? */
  accept(name: string): boolean;
  /** Folder names not to enter. */
  skip?: string[];
  onError(path: string, reason: string): void;
}

function reasonOf(e: unknown): string {
  return (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'dangling link' : (e as Error).message;
}

export function walkFiles(dir: string, opts: WalkOptions, out: string[] = [], visited = new Set<string>()): string[] {
  let real: string;
  try {
    real = realpathSync(dir);
  } catch (e) {
    opts.onError(dir, reasonOf(e));
    return out;
  }
  if (visited.has(real)) return out;
  visited.add(real);
  for (const name of readdirSync(dir).sort()) {
    if (name.startsWith('.') || opts.skip?.includes(name)) continue;
    const p = join(dir, name);
    try {
      if (statSync(p).isDirectory()) walkFiles(p, opts, out, visited);
      else if (opts.accept(name)) out.push(p);
    } catch (e) {
      opts.onError(p, reasonOf(e));
    }
  }
  return out;
}

/**
 * The files named on a command line: a file as itself (whatever its ending), a folder as the
 * files below it that `opts.accept`s. A path that does not exist (or cannot be read) goes to
 * `opts.onError` and the others are still expanded.
 */
export function expandPaths(paths: string[], opts: WalkOptions, visited = new Set<string>()): string[] {
  const files: string[] = [];
  for (const p of paths) {
    let isDir: boolean;
    try {
      isDir = statSync(p).isDirectory();
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      opts.onError(p, code === 'ENOENT' ? 'no such file or folder' : (e as Error).message);
      continue;
    }
    if (isDir) walkFiles(p, opts, files, visited);
    else files.push(p);
  }
  return files;
}
