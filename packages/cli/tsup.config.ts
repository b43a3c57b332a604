import { defineConfig } from 'tsup';

// A command, not a library: one ESM file for the bin (its dependencies stay dependencies), no type declarations.
export default defineConfig({
  entry: { main: 'src/main.ts' },
  format: ['esm'],
  target: 'node20',
  clean: true,
  sourcemap: true,
  dts: false,
});
