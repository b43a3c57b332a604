// Regenerates the shipped default files (rules/*.yml, dashboards/meterline.json) from the built generator.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderFiles, renderNativeFiles, DASHBOARD_FILE, NATIVE_RULES_FILE } from '../dist/index.js';

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..');
for (const [name, text] of Object.entries(renderFiles())) {
  const dir = join(pkg, name === DASHBOARD_FILE ? 'dashboards' : 'rules');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, name), text);
  console.log(`wrote ${join(dir, name)}`);
}
// the native rules ship too; the shipped dashboard stays the classic one
const nativeRules = join(pkg, 'rules', NATIVE_RULES_FILE);
writeFileSync(nativeRules, renderNativeFiles()[NATIVE_RULES_FILE]);
console.log(`wrote ${nativeRules}`);
