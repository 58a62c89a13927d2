/**
 * The folders are the architecture (DESIGN §2): central never imports plugin/, adapters/ or
 * host-mock/; central/client/ (the wire contract, imported by plugins) imports nothing of the server.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** Relative imports of a file, as paths from the repository root. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specifiers = [...text.matchAll(/(?:import|export)[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => m[1] ?? m[2]!);
  return specifiers.filter((s) => s.startsWith('.')).map((s) => relative(root, resolve(dirname(file), s)));
}

describe('central architecture', () => {
  const files = sources(join(root, 'central'));

  it('never imports plugin/, adapters/ or host-mock/', () => {
    const wrong = files.flatMap((file) =>
      importsOf(file)
        .filter((target) => /^(plugin|adapters|host-mock)\//.test(target))
        .map((target) => `${relative(root, file)} → ${target}`),
    );
    assert.deepEqual(wrong, []);
  });

  it('keeps central/client/ free of server code', () => {
    const client = files.filter((f) => relative(root, f).startsWith('central/client/') && !f.endsWith('.test.ts'));
    assert.ok(client.length >= 2);
    const wrong = client.flatMap((file) =>
      importsOf(file)
        .filter((target) => !target.startsWith('central/client/'))
        .map((target) => `${relative(root, file)} → ${target}`),
    );
    assert.deepEqual(wrong, []);
  });
});
