import { defineConfig } from 'tsup';
import { packageBuild } from '../../tsup.base.js';

export default defineConfig({
  ...packageBuild({ index: 'src/index.ts', adapter: 'src/adapter-entry.ts' }),
  // the live page's HTML is bundled as a string: nothing to copy, nothing read from disk at run time
  loader: { '.html': 'text' },
});
