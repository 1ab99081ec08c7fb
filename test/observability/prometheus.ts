// Reading a Prometheus text page in tests: the value of one series, matched by a subset of its labels.

export async function scrape(port: number): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  if (!res.ok) throw new Error(`GET /metrics: ${res.status}`);
  return res.text();
}

function labelsOf(text: string): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const m of text.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[m[1] as string] = m[2] as string;
  return labels;
}

/** The sum over the series of `name` whose labels include `want` (0 when there is none yet). */
export function metricValue(page: string, name: string, want: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of page.split('\n')) {
    const m = /^(\w+)(?:\{(.*)\})? (\S+)/.exec(line);
    if (!m || m[1] !== name) continue;
    const labels = labelsOf(m[2] ?? '');
    if (Object.entries(want).every(([k, v]) => labels[k] === v)) sum += Number(m[3]);
  }
  return sum;
}
