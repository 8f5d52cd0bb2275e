// Minimal hand-rolled SVG charts (no dependency): latency percentiles over time on a log scale above
// the throughput per second, or a horizontal bar chart for scenarios measured as a few numbers.
import type { SeriesPoint } from './stats.js';

export type Chart =
  | { kind: 'timeseries'; title: string; series: Array<{ name: string; points: SeriesPoint[] }> }
  | { kind: 'bars'; title: string; unit: string; bars: Array<{ label: string; value: number }> };

const W = 900;
const PAD = { left: 70, right: 20, top: 40, bottom: 40 };
const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b'];

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const fmt = (n: number) => (n >= 100 ? String(Math.round(n)) : n >= 10 ? n.toFixed(1) : n >= 1 ? n.toFixed(2) : n.toFixed(3));

export function renderChart(chart: Chart): string {
  return chart.kind === 'timeseries' ? timeseries(chart) : bars(chart);
}

function frame(height: number, title: string, body: string): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${height}" viewBox="0 0 ${W} ${height}" font-family="sans-serif" font-size="12">
<rect width="100%" height="100%" fill="white"/>
<text x="${W / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${esc(title)}</text>
${body}</svg>
`;
}

function timeseries(chart: Extract<Chart, { kind: 'timeseries' }>): string {
  const latH = 300;
  const thrH = 160;
  const gap = 50;
  const height = PAD.top + latH + gap + thrH + PAD.bottom;
  const all = chart.series.flatMap((s) => s.points);
  const tMax = Math.max(1, ...all.map((p) => p.t + 1));
  const x = (t: number) => PAD.left + ((t + 0.5) / tMax) * (W - PAD.left - PAD.right);
  // Latency panel, log scale so a 2 ms median and a 2 s spike both show.
  const vals = all.flatMap((p) => [p.p50, p.p99, p.max]).filter((v) => v > 0);
  const lo = Math.pow(10, Math.floor(Math.log10(Math.max(0.01, Math.min(...vals, 1)))));
  const hi = Math.pow(10, Math.ceil(Math.log10(Math.max(...vals, 10))));
  const yLat = (v: number) => PAD.top + latH - ((Math.log10(Math.max(v, lo)) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * latH;
  let body = '';
  for (let d = lo; d <= hi; d *= 10) {
    body += `<line x1="${PAD.left}" x2="${W - PAD.right}" y1="${yLat(d)}" y2="${yLat(d)}" stroke="#ddd"/><text x="${PAD.left - 6}" y="${yLat(d) + 4}" text-anchor="end">${fmt(d)} ms</text>\n`;
  }
  const styles: Array<['p50' | 'p99' | 'max', string]> = [['p50', ''], ['p99', 'stroke-dasharray="6 3"'], ['max', 'stroke-dasharray="2 3"']];
  const legend: string[] = [];
  chart.series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length]!;
    for (const [key, dash] of styles) {
      const pts = s.points.map((p) => `${x(p.t).toFixed(1)},${yLat(p[key]).toFixed(1)}`).join(' ');
      if (pts) body += `<polyline fill="none" stroke="${color}" stroke-width="1.5" ${dash} points="${pts}"/>\n`;
    }
    legend.push(`<text x="${PAD.left + 10}" y="${PAD.top + 14 + i * 15}" fill="${color}">${esc(s.name)} — solid p50, dashed p99, dotted max</text>`);
  });
  body += legend.join('\n');
  body += `<text x="14" y="${PAD.top + latH / 2}" transform="rotate(-90 14 ${PAD.top + latH / 2})" text-anchor="middle">latency (log)</text>\n`;
  // Throughput panel: completions per second of the first series.
  const top = PAD.top + latH + gap;
  const counts = chart.series[0]?.points ?? [];
  const cMax = Math.max(1, ...counts.map((p) => p.count));
  const barW = Math.max(1, (W - PAD.left - PAD.right) / tMax - 1);
  for (const p of counts) {
    const h = (p.count / cMax) * thrH;
    body += `<rect x="${(x(p.t) - barW / 2).toFixed(1)}" y="${(top + thrH - h).toFixed(1)}" width="${barW.toFixed(1)}" height="${h.toFixed(1)}" fill="#7fa7d1"/>\n`;
  }
  body += `<text x="${PAD.left - 6}" y="${top + 4}" text-anchor="end">${Math.round(cMax)}/s</text><text x="${PAD.left - 6}" y="${top + thrH}" text-anchor="end">0</text>\n`;
  body += `<text x="${PAD.left + 10}" y="${top - 6}">${esc(chart.series[0]?.name ?? '')}: completed per second</text>\n`;
  body += `<text x="${W / 2}" y="${height - 10}" text-anchor="middle">seconds since start</text>\n`;
  for (let t = 0; t <= tMax; t += Math.max(1, Math.ceil(tMax / 10))) body += `<text x="${x(t - 0.5)}" y="${top + thrH + 15}" text-anchor="middle">${t}</text>\n`;
  return frame(height, chart.title, body);
}

function bars(chart: Extract<Chart, { kind: 'bars' }>): string {
  const rowH = 26;
  const height = PAD.top + chart.bars.length * rowH + PAD.bottom;
  const labelW = 300;
  const vMax = Math.max(1, ...chart.bars.map((b) => b.value));
  const width = W - labelW - PAD.right - 80;
  let body = '';
  chart.bars.forEach((b, i) => {
    const y = PAD.top + i * rowH;
    const w = (b.value / vMax) * width;
    body += `<text x="${labelW - 8}" y="${y + 16}" text-anchor="end">${esc(b.label)}</text><rect x="${labelW}" y="${y + 4}" width="${w.toFixed(1)}" height="${rowH - 8}" fill="${COLORS[i % COLORS.length]}"/><text x="${labelW + w + 6}" y="${y + 16}">${fmt(b.value)} ${esc(chart.unit)}</text>\n`;
  });
  return frame(height, chart.title, body);
}
