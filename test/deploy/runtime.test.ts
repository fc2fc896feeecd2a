import { readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { runCommand } from '../sandbox/run-main.js';

/**
 * Production runs tsc's output with plain Node after `npm ci --omit=dev` (issue 18): whatever src/ loads at
 * run time must be a dependency, and nothing that only builds, tests or benchmarks may be one.
 */
const root = fileURLToPath(new URL('../../', import.meta.url));
const PackageJsonSchema = z.object({
  main: z.string().optional(),
  scripts: z.record(z.string(), z.string()),
  dependencies: z.record(z.string(), z.string()),
  devDependencies: z.record(z.string(), z.string()),
});
const pkg = PackageJsonSchema.parse(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return path.endsWith('.ts') && !path.endsWith('.d.ts') ? [path] : [];
  });
}

/** The package a bare specifier names (`@scope/name/sub` → `@scope/name`); undefined for relative and node: ones. */
function packageOf(specifier: string): string | undefined {
  if (specifier.startsWith('.') || specifier.startsWith('node:') || builtinModules.includes(specifier)) {
    return undefined;
  }
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

/** Every module a file loads at run time: static imports and re-exports that are not type-only, import(), require(). */
function runtimeSpecifiers(text: string): string[] {
  const found: string[] = [];
  const statements = /^\s*(import|export)\s+(type\s+)?[^'"]*?\bfrom\s+'([^']+)'/gm;
  for (const match of text.matchAll(statements)) if (match[2] === undefined) found.push(match[3] ?? '');
  for (const match of text.matchAll(/^\s*import\s+'([^']+)'/gm)) found.push(match[1] ?? '');
  for (const match of text.matchAll(/\bimport\(\s*'([^']+)'\s*\)/g)) found.push(match[1] ?? '');
  for (const match of text.matchAll(/\)\(\s*'([^']+)'\s*\)/g)) found.push(match[1] ?? ''); // createRequire(…)('x')
  return found;
}

describe('the compiled runtime', () => {
  const files = sourceFiles(join(root, 'src'));

  it('loads only dependencies at run time (npm ci --omit=dev leaves nothing out)', () => {
    const missing: string[] = [];
    const used = new Set<string>();
    for (const file of files) {
      for (const specifier of runtimeSpecifiers(readFileSync(file, 'utf8'))) {
        const name = packageOf(specifier);
        if (name === undefined) continue;
        used.add(name);
        if (pkg.dependencies[name] === undefined) missing.push(`${relative(root, file)} loads ${specifier}`);
      }
    }
    expect(missing).toEqual([]);
    // The scan sees the imports at all (a broken pattern would pass the check above vacuously).
    expect([...used]).toEqual(expect.arrayContaining(['@slack/bolt', 'kysely', 'zod', '@ovhcloud/node-ovh']));
  });

  it('keeps build, test and benchmark tools out of the dependencies', () => {
    for (const tool of ['tsx', 'typescript', 'vitest', '@biomejs/biome', 'fast-check', 'ajv', 'ws']) {
      expect(pkg.dependencies[tool], tool).toBeUndefined();
      expect(pkg.devDependencies[tool], tool).toBeDefined();
    }
  });

  it('is started with plain node on dist/, never through tsx', () => {
    for (const script of ['start', 'simulator', 'ovh:credentials', 'audit:verify']) {
      const command = pkg.scripts[script] ?? '';
      expect(command, script).toMatch(/^npm run build --silent && node dist\/[\w/.-]+\.js$/);
      expect(command, script).not.toContain('tsx');
    }
    const build = z
      .object({ compilerOptions: z.object({ outDir: z.string(), rootDir: z.string(), noEmit: z.literal(false) }) })
      .parse(JSON.parse(readFileSync(join(root, 'tsconfig.build.json'), 'utf8')));
    expect(build.compilerOptions).toMatchObject({ outDir: 'dist', rootDir: 'src' });
  });

  it('`npm start` builds, then runs the sandbox from dist/ with plain node', async () => {
    const { code, stdout, stderr } = await runCommand(['npm', 'start', '--silent'], {}, '/whoami\n/quit\n');
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toContain('nasha-bot SANDBOX');
    expect(stdout).toContain('You are alice (U0ALICE, admin everywhere) in #ops.');
    expect(stdout).toContain('Stopped.');
    // What ran is the compiled entry point.
    expect(statSync(join(root, 'dist/main.js')).isFile()).toBe(true);
  }, 120_000);
});
