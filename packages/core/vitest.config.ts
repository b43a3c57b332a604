import { readFileSync } from 'node:fs';
import { defineConfig } from 'vitest/config';

// Tests run the sources: `.html` imports become strings, as tsup's text loader makes them in the build.
export default defineConfig({
  plugins: [
    {
      name: 'html-as-text',
      enforce: 'pre',
      load(id: string) {
        return id.endsWith('.html') ? `export default ${JSON.stringify(readFileSync(id, 'utf8'))};` : undefined;
      },
    },
  ],
});
