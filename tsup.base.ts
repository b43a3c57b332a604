import type { Options } from 'tsup';

/** The build every published package shares: ESM and CommonJS with type declarations, for Node 20. */
export function packageBuild(entry: string[] = ['src/index.ts']): Options {
  return {
    entry,
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    clean: true,
    target: 'node20',
    shims: true,
  };
}
