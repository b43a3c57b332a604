// A reader of the Prometheus text exposition format (0.0.4, and the sample lines of OpenMetrics): each sample
// line becomes { name, labels, value }; comments, TYPE/HELP and malformed lines are skipped.

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

function parseValue(text: string): number {
  if (text === '+Inf' || text === 'Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  if (text === 'NaN') return NaN;
  return text === '' ? NaN : Number(text);
}

/** A quoted string starting at `i` (on the opening quote): its unescaped text and the index after the closing quote. */
function quoted(line: string, i: number): [string, number] | undefined {
  let out = '';
  for (let k = i + 1; k < line.length; k++) {
    const c = line[k];
    if (c === '"') return [out, k + 1];
    if (c === '\\' && k + 1 < line.length) {
      const e = line[++k];
      out += e === 'n' ? '\n' : e;
    } else out += c;
  }
  return undefined;
}

/** One sample line, or undefined if it is not one. */
export function parseSampleLine(line: string): Sample | undefined {
  let i = 0;
  let name = '';
  while (i < line.length && /[a-zA-Z0-9_:]/.test(line[i])) name += line[i++];
  const labels: Record<string, string> = {};
  if (line[i] === '{') {
    i++;
    for (;;) {
      while (line[i] === ' ' || line[i] === ',') i++;
      if (line[i] === '}') {
        i++;
        break;
      }
      let key = '';
      if (line[i] === '"') {
        const q = quoted(line, i);
        if (q === undefined) return undefined;
        [key, i] = q;
      } else {
        while (i < line.length && /[a-zA-Z0-9_]/.test(line[i])) key += line[i++];
      }
      while (line[i] === ' ') i++;
      if (line[i] !== '=') {
        // a quoted metric name inside the braces (UTF-8 names): {"my.metric", label="x"}
        if (name === '' && key !== '') {
          name = key;
          continue;
        }
        return undefined;
      }
      i++;
      while (line[i] === ' ') i++;
      if (line[i] !== '"') return undefined;
      const q = quoted(line, i);
      if (q === undefined) return undefined;
      labels[key] = q[0];
      i = q[1];
    }
  }
  if (name === '') return undefined;
  const rest = line.slice(i).trim().split(/\s+/);
  const value = parseValue(rest[0] ?? '');
  if (rest[0] === undefined || (Number.isNaN(value) && rest[0] !== 'NaN')) return undefined;
  return { name, labels, value };
}

/** Every sample of an exposition. */
export function parseExposition(text: string): Sample[] {
  const out: Sample[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const s = parseSampleLine(line);
    if (s !== undefined) out.push(s);
  }
  return out;
}
