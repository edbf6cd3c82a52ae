/**
 * The files `plrust compile` needs at run time: this package's compiled CLI,
 * its templates and target definitions, and its production dependencies.
 * `plrust install` copies them into the PostgreSQL installation when the
 * server's OS user cannot read the package where it is (a checkout in
 * root's home, say), so the validator never depends on someone's home
 * directory being readable.
 */
import fs from 'node:fs';
import path from 'node:path';

function walk(root: string, rel: string, keep: (rel: string) => boolean, out: string[]): void {
  const abs = path.join(root, rel);
  if (!fs.existsSync(abs)) return;
  for (const ent of fs.readdirSync(abs, { withFileTypes: true })) {
    const r = path.join(rel, ent.name);
    if (ent.isDirectory()) walk(root, r, keep, out);
    else if (ent.isFile() && keep(r)) out.push(r);
  }
}

/** Production dependencies, transitively, as directories under node_modules (npm's hoisted layout and nested ones). */
function productionPackages(root: string): string[] {
  const found = new Set<string>();
  const visit = (fromDir: string, name: string): void => {
    // Node's resolution: the nearest node_modules/<name> walking up from the requiring package.
    for (let dir = fromDir; ; dir = path.dirname(path.dirname(dir))) {
      const candidate = path.join(dir, 'node_modules', name);
      if (fs.existsSync(path.join(candidate, 'package.json'))) {
        const rel = path.relative(root, candidate);
        if (found.has(rel)) return;
        found.add(rel);
        const pkg = JSON.parse(fs.readFileSync(path.join(candidate, 'package.json'), 'utf8')) as {
          dependencies?: Record<string, string>;
        };
        for (const dep of Object.keys(pkg.dependencies ?? {})) visit(candidate, dep);
        return;
      }
      if (dir === root || path.dirname(dir) === dir) return;
    }
  };
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as {
    dependencies?: Record<string, string>;
  };
  for (const dep of Object.keys(pkg.dependencies ?? {})) visit(root, dep);
  return [...found].sort();
}

/** Relative paths of every file of the runnable CLI under `root`. */
export function cliFiles(root: string): string[] {
  const out: string[] = ['package.json', path.join('bin', 'plrust')];
  walk(root, path.join('dist', 'src'), (r) => r.endsWith('.js'), out);
  for (const dir of ['templates', 'handler', 'runtime']) walk(root, dir, () => true, out);
  walk(root, 'targets', () => true, out);
  for (const p of productionPackages(root)) walk(root, p, (r) => !r.slice(p.length + 1).includes('node_modules'), out);
  return out;
}
