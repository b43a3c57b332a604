import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { tickPin } from '../src/tick-pin.js';

const dist = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist');

describe("a tick object of Node is held from import on (bench/RESULTS.md, Node's tick objects)", () => {
  it('holds one on this Node version', () => {
    expect(tickPin()).toEqual({ pinned: true, failure: undefined });
  });

  // the pin only helps before anything of meterline allocates: it must be the first module each entry evaluates
  it.each(['index.js', 'adapter.js', 'index.cjs', 'adapter.cjs'])(
    'is the first module %s evaluates',
    (entry) => {
      const source = readFileSync(join(dist, entry), 'utf8');
      const chunk = /(?:from |require\()["'](\.\/chunk-[\w-]+\.c?js)["']/.exec(source)?.[1];
      expect(chunk, `${entry} loads a shared chunk`).toBeDefined();
      const modules = [...readFileSync(join(dist, chunk!), 'utf8').matchAll(/^\/\/ src\/(\S+)$/gm)].map(
        (m) => m[1],
      );
      expect(modules[0]).toBe('tick-pin.ts');
    },
  );

  // a bundler that honours `sideEffects` drops a module's top-level code when nothing it exports is used
  it("declares the module and the chunks that hold it as having side effects (package.json's sideEffects)", () => {
    const manifest = JSON.parse(readFileSync(join(dist, '..', 'package.json'), 'utf8'));
    expect(manifest.sideEffects).toEqual(
      expect.arrayContaining(['./src/tick-pin.ts', './dist/chunk-*.js', './dist/chunk-*.cjs']),
    );
  });
});
