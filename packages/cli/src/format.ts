// How numbers are shown in the table: short, fixed-width friendly, '-' for unknown.

export const DASH = '-';

export function formatRate(v: number): string {
  if (!Number.isFinite(v)) return DASH;
  if (v < 10) return v.toFixed(2);
  if (v < 10_000) return v.toFixed(1);
  return (v / 1000).toFixed(1) + 'k';
}

export function formatPercent(ratio: number): string {
  return Number.isFinite(ratio) ? (ratio * 100).toFixed(1) + '%' : DASH;
}

/** Seconds as ms below 1 s, else seconds. */
export function formatLatency(seconds: number): string {
  if (!Number.isFinite(seconds)) return DASH;
  const ms = seconds * 1000;
  if (ms < 10) return ms.toFixed(2) + 'ms';
  if (ms < 1000) return ms.toFixed(ms < 100 ? 1 : 0) + 'ms';
  return seconds.toFixed(seconds < 10 ? 2 : 1) + 's';
}

export function formatBytes(perSecond: number | undefined): string {
  if (perSecond === undefined || !Number.isFinite(perSecond)) return DASH;
  const units = ['B', 'kB', 'MB', 'GB'];
  let v = perSecond;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return (i === 0 ? v.toFixed(0) : v.toFixed(1)) + units[i];
}
