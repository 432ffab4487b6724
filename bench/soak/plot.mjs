// SVG charts of a soak run, written by hand (no plotting dependency): throughput, latency and
// errors per second, stacked, sharing one time axis, with each fault marked and shaded.

const WIDTH = 960;
const PANEL_HEIGHT = 170;
const MARGIN = { left: 64, right: 150, top: 34, bottom: 26 };
const COLORS = { ok: '#2b7bb9', unavailable: '#e69f00', failed: '#c0392b', p50: '#2b7bb9', p99: '#8e44ad', replay: '#555555' };

function esc(text) {
  return String(text).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);
}

function niceMax(value) {
  if (!(value > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) if (value <= step * power) return step * power;
  return 10 * power;
}

/**
 * One panel: series of [second, value] lines over `seconds`, y from 0 to a rounded max.
 * Returns SVG elements positioned at `top`.
 */
function panel({ top, title, unit, seconds, series, faults }) {
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
  const plotHeight = PANEL_HEIGHT - MARGIN.top - MARGIN.bottom;
  const yMax = niceMax(Math.max(0, ...series.flatMap((s) => s.values)));
  const x = (t) => MARGIN.left + (t / Math.max(seconds, 1)) * plotWidth;
  const y = (v) => top + MARGIN.top + plotHeight - (v / yMax) * plotHeight;
  const out = [];
  out.push(`<text x="${MARGIN.left}" y="${top + 20}" font-size="14" font-weight="bold">${esc(title)}</text>`);
  for (const fault of faults) {
    const x1 = x(fault.start);
    const x2 = Math.max(x(fault.restored ?? fault.start), x1 + 1);
    out.push(`<rect x="${x1.toFixed(1)}" y="${top + MARGIN.top}" width="${(x2 - x1).toFixed(1)}" height="${plotHeight}" fill="#f3d6d6" opacity="0.6"/>`);
    out.push(`<line x1="${x1.toFixed(1)}" x2="${x1.toFixed(1)}" y1="${top + MARGIN.top}" y2="${top + MARGIN.top + plotHeight}" stroke="#c0392b" stroke-dasharray="4 3"/>`);
  }
  for (let i = 0; i <= 4; i += 1) {
    const v = (yMax * i) / 4;
    out.push(`<line x1="${MARGIN.left}" x2="${MARGIN.left + plotWidth}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${MARGIN.left - 6}" y="${(y(v) + 4).toFixed(1)}" font-size="11" text-anchor="end">${+v.toFixed(2)}</text>`);
  }
  out.push(`<text x="14" y="${top + MARGIN.top + plotHeight / 2}" font-size="11" transform="rotate(-90 14 ${top + MARGIN.top + plotHeight / 2})" text-anchor="middle">${esc(unit)}</text>`);
  const tickEvery = niceMax(seconds / 8);
  for (let t = 0; t <= seconds; t += tickEvery) {
    out.push(`<text x="${x(t).toFixed(1)}" y="${top + MARGIN.top + plotHeight + 16}" font-size="11" text-anchor="middle">${t}s</text>`);
  }
  out.push(`<rect x="${MARGIN.left}" y="${top + MARGIN.top}" width="${plotWidth}" height="${plotHeight}" fill="none" stroke="#999"/>`);
  series.forEach((s, i) => {
    const points = s.values.map((v, t) => `${x(t + 0.5).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
    out.push(`<polyline fill="none" stroke="${s.color}" stroke-width="1.6" points="${points}"/>`);
    const ly = top + MARGIN.top + 12 + i * 16;
    out.push(`<line x1="${WIDTH - MARGIN.right + 12}" x2="${WIDTH - MARGIN.right + 30}" y1="${ly - 4}" y2="${ly - 4}" stroke="${s.color}" stroke-width="2"/>`);
    out.push(`<text x="${WIDTH - MARGIN.right + 34}" y="${ly}" font-size="11">${esc(s.label)}</text>`);
  });
  return out;
}

/**
 * The run as one SVG: `buckets` per second ({ ok, unavailable, failed, replays, p50, p99 }),
 * `faults` ({ name, start, restored } in seconds).
 */
export function soakSvg({ title, buckets, faults }) {
  const seconds = buckets.length;
  const col = (key) => buckets.map((b) => b[key]);
  const panels = [
    { title: 'Throughput (legitimate requests per second)', unit: 'req/s', series: [{ label: 'answered', color: COLORS.ok, values: col('ok') }, { label: 'replays refused', color: COLORS.replay, values: col('replays') }] },
    { title: 'Latency of legitimate requests (ms)', unit: 'ms', series: [{ label: 'p50', color: COLORS.p50, values: col('p50') }, { label: 'p99', color: COLORS.p99, values: col('p99') }] },
    {
      title: 'Errors per second',
      unit: 'req/s',
      series: [
        { label: '503 (outage)', color: COLORS.unavailable, values: col('unavailable') },
        { label: 'cut in an outage', color: COLORS.replay, values: col('interrupted') },
        { label: 'failed', color: COLORS.failed, values: col('failed') },
      ],
    },
  ];
  const height = panels.length * PANEL_HEIGHT + 40;
  const body = panels.flatMap((p, i) => panel({ ...p, top: 30 + i * PANEL_HEIGHT, seconds, faults }));
  const labels = faults.map((f, i) => {
    const x = MARGIN.left + (f.start / Math.max(seconds, 1)) * (WIDTH - MARGIN.left - MARGIN.right);
    return `<text x="${(x + 3).toFixed(1)}" y="${30 + MARGIN.top + 12 + (i % 2) * 12}" font-size="10" fill="#c0392b">${esc(f.name)}</text>`;
  });
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif">`,
    '<rect width="100%" height="100%" fill="white"/>',
    `<text x="${MARGIN.left}" y="20" font-size="15">${esc(title)}</text>`,
    ...body,
    ...labels,
    '</svg>',
    '',
  ].join('\n');
}
