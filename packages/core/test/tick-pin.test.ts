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

  // a bundler drops an imported module whose exports go unused if its package says it has no side effects
  it('survives a bundler that honours package.json sideEffects (esbuild, nothing of core used)', async () => {
    const { build } = await import('esbuild');
    const bundled = await build({
      stdin: { contents: "import '@meterline/core';", resolveDir: join(dist, '..'), loader: 'js' },
      bundle: true,
      write: false,
      platform: 'node',
      format: 'esm',
      external: ['@opentelemetry/*'],
      logLevel: 'silent',
    });
    const code = bundled.outputFiles[0]!.text;
    expect(code).toContain('"TickObject"');
    expect(code).toContain('createHook');
  });
});
