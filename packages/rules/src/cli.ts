import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { reloadPrometheus, reloadPrometheusByPid } from './reload.js';
import { renderFiles } from './render.js';
import { DEFAULT_RULE_OPTIONS, type RuleOptions } from './rules.js';

const d = DEFAULT_RULE_OPTIONS;
export const USAGE = `Usage: meterline-rules [options]

Writes Prometheus recording rules, alert rules and a Grafana dashboard for meterline metrics.

Options:
  --error-ratio <fraction>   alert when a route's error ratio is above this (default ${d.errorRatio})
  --p95 <seconds>            alert when a route's p95 latency is above this (default ${d.p95})
  --window <duration>        rate window of the recording rules (default ${d.window})
  --for <duration>           how long a condition holds before alerting (default ${d.for})
  --route-label <label>      label holding the route template (default ${d.routeLabel})
  --min-rate <req/s>         least traffic on a route for its error and latency alerts (default ${d.minRate})
  --batch-max-age <duration> alert when a batch job's last success is older (default ${d.batchMaxAge})
  --error-matchers <m>       label matchers selecting errors (default '${d.errorMatchers}')
  --out <dir>                directory to write into (default .)
  --reload <url>             then make the Prometheus at <url> load them: POST <url>/-/reload
                             (Prometheus runs with --web.enable-lifecycle)
  --reload-pid <pid>         then send SIGHUP to the Prometheus process <pid> (no lifecycle API needed)
  -h, --help                 show this help
`;

function num(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new TypeError(`meterline-rules: ${flag} must be a number, got ${JSON.stringify(value)}`);
  return n;
}

/** Runs the CLI; resolves to the exit code. */
export async function main(
  argv: string[],
  out: { log(s: string): void; error(s: string): void } = console,
): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        'error-ratio': { type: 'string' },
        p95: { type: 'string' },
        window: { type: 'string' },
        for: { type: 'string' },
        'route-label': { type: 'string' },
        'min-rate': { type: 'string' },
        'batch-max-age': { type: 'string' },
        'error-matchers': { type: 'string' },
        out: { type: 'string', default: '.' },
        reload: { type: 'string' },
        'reload-pid': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    out.error(`${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    out.log(USAGE);
    return 0;
  }
  try {
    const options: RuleOptions = {
      errorRatio: num(values['error-ratio'], '--error-ratio'),
      p95: num(values.p95, '--p95'),
      window: values.window,
      for: values.for,
      routeLabel: values['route-label'],
      minRate: num(values['min-rate'], '--min-rate'),
      batchMaxAge: values['batch-max-age'],
      errorMatchers: values['error-matchers'],
    };
    const files = renderFiles(options);
    const dir = resolve(values.out ?? '.');
    mkdirSync(dir, { recursive: true });
    const pid = num(values['reload-pid'], '--reload-pid');
    if (values.reload !== undefined && pid !== undefined) throw new TypeError('meterline-rules: give --reload or --reload-pid, not both');
    for (const [name, text] of Object.entries(files)) {
      writeFileSync(join(dir, name), text);
      out.log(`wrote ${join(dir, name)}`);
    }
    if (values.reload !== undefined) out.log(`reloaded Prometheus: ${(await reloadPrometheus(values.reload)).target}`);
    if (pid !== undefined) out.log(`reloaded Prometheus: SIGHUP to ${reloadPrometheusByPid(pid).target}`);
    return 0;
  } catch (err) {
    out.error((err as Error).message);
    return 1;
  }
}
