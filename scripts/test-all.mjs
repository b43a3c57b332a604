#!/usr/bin/env node
// `npm test`: every check a change must pass, in order, on a fresh machine. Each stage's output streams through;
// the last line sums the test cases the runners reported and the stages that passed.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const env = {
  ...process.env,
  TURBO_TELEMETRY_DISABLED: '1',
  DO_NOT_TRACK: '1',
  FORCE_COLOR: '0',
  NO_COLOR: '1',
};
const stages = [
  ['Prometheus tools', 'node', ['scripts/ensure-prometheus.mjs']],
  ['build', 'npx', ['turbo', 'run', 'build']],
  ['lint and typecheck', 'npx', ['turbo', 'run', 'lint', 'typecheck']],
  ['unit, integration and conformance tests', 'npx', ['turbo', 'run', 'test', '--concurrency=1']],
  ['end to end with Prometheus, Alertmanager, Pushgateway', 'npm', ['run', 'e2e', '-w', '@meterline/e2e']],
  [
    'soak',
    'npm',
    ['run', 'soak', '-w', '@meterline/test-kit'],
    { SOAK_SECONDS: process.env.SOAK_SECONDS ?? '10' },
  ],
  ['packed tarballs from import and require', 'node', ['scripts/pack-check.mjs']],
  // every framework major x Node x OpenTelemetry line of the README's support table, each a clean npm install
  ['support matrix', 'node', ['scripts/matrix.mjs', '--no-build']],
  ['benchmark smoke run', 'npm', ['run', 'bench:ci', '-w', '@meterline/bench']],
  [
    'concurrent cost smoke run',
    'npm',
    [
      'run',
      'bench:cost',
      '-w',
      '@meterline/bench',
      '--',
      '--rounds',
      '1',
      '--duration',
      '1',
      '--warmup',
      '0.5',
      // the diagnosis variants that rebuild meterline's runtime by hand (patched, then patches undone)
      '--variants',
      'bare,control,meterline,patched,runtime',
    ],
  ],
];

let passedTests = 0;
let failedTests = 0;
const results = [];
for (const [name, cmd, args, extraEnv] of stages) {
  console.log(`\n=== ${name} ===`);
  const started = Date.now();
  const code = await new Promise((resolve) => {
    const child = spawn(cmd, args, {
      cwd: root,
      env: { ...env, ...extraEnv },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let carry = '';
    child.stdout.on('data', (chunk) => {
      process.stdout.write(chunk);
      const text = carry + chunk.toString();
      const lines = text.split('\n');
      carry = lines.pop() ?? '';
      for (const line of lines) {
        // vitest: "Tests  12 passed | 1 failed (13)"
        const m = /\bTests\s+(?:(\d+) failed\s*\|\s*)?(\d+) passed(?:\s*\|\s*(\d+) failed)?/.exec(line);
        if (m) {
          passedTests += Number(m[2]);
          failedTests += Number(m[1] ?? 0) + Number(m[3] ?? 0);
        } else {
          const f = /\bTests\s+(\d+) failed/.exec(line);
          if (f) failedTests += Number(f[1]);
        }
      }
    });
    child.on('close', (c) => resolve(c ?? 1));
  });
  results.push({ name, ok: code === 0, seconds: Math.round((Date.now() - started) / 1000) });
  if (code !== 0) break;
}
console.log('\n=== summary ===');
for (const r of results) console.log(`${r.ok ? 'ok  ' : 'FAIL'} ${r.name} (${r.seconds} s)`);
for (const [name] of stages.slice(results.length)) console.log(`skip ${name}`);
const stageFailures = results.filter((r) => !r.ok).length;
console.log(
  `stages: ${results.length - stageFailures} passed, ${stageFailures} failed, ${stages.length - results.length} skipped`,
);
console.log(`tests: ${passedTests} passed, ${failedTests + stageFailures} failed`);
process.exit(stageFailures === 0 && failedTests === 0 ? 0 : 1);
