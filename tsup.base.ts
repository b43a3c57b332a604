import type { Options } from 'tsup';

/**
 * The build every published package shares: ESM and CommonJS with type declarations, for Node 20. Several entries
 * share their modules through chunks (splitting, also for CommonJS): a module's state exists once per format.
 */
export function packageBuild(entry: string[] | Record<string, string> = ['src/index.ts']): Options {
  return {
    entry,
    splitting: true,
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    clean: true,
    target: 'node20',
    shims: true,
  };
}
