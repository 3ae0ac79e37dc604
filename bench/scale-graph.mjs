/**
 * bench/scale's graph as SVG (three panels: each sandbox's start time; corral's memory per
 * workspace at each N against the 40 MB target; gateway latency p50/p99 at each N), turned into
 * PNG by rsvg-convert. Plain SVG text, no chart library: three panels do not need one.
 */
const W = 1200;
const H = 420;
const PANEL = { w: 340, h: 280, top: 80 };
const COLORS = {
  gateway: '#4e79a7',
  bridge: '#f28e2b',
  forwarder: '#59a14f',
  p50: '#4e79a7',
  p99: '#e15759',
};
const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;');
const text = (x, y, s, extra = '') =>
  `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" font-family="DejaVu Sans, sans-serif"${extra.includes('font-size') ? '' : ' font-size="12"'} ${extra}>${esc(s)}</text>`;
const niceMax = (v) => {
  const p = 10 ** Math.floor(Math.log10(v || 1));
  return [1, 2, 2.5, 5, 10].map((m) => m * p).find((m) => m >= v) ?? v;
};

function axes(x0, title, unit, yMax, xLabels) {
  const { w, h, top } = PANEL;
  const out = [text(x0, top - 30, title, 'font-weight="bold" font-size="14"')];
  for (let i = 0; i <= 4; i++) {
    const y = top + h - (h * i) / 4;
    out.push(`<line x1="${x0}" x2="${x0 + w}" y1="${y}" y2="${y}" stroke="#ddd"/>`);
    out.push(text(x0 - 6, y + 4, `${Math.round((yMax * i) / 4)}`, 'text-anchor="end"'));
  }
  out.push(text(x0, top - 10, unit, 'fill="#555"'));
  for (const [x, label] of xLabels) out.push(text(x, top + h + 16, label, 'text-anchor="middle"'));
  return out;
}

function startsPanel(x0, starts) {
  const { w, h, top } = PANEL;
  const yMax = niceMax(Math.max(...starts) * 1.1);
  const px = (i) => x0 + (w * (i + 0.5)) / starts.length;
  const py = (v) => top + h - (h * v) / yMax;
  const ticks = [0, ...[10, 25, 50].filter((n) => n <= starts.length).map((n) => n - 1)];
  const out = axes(
    x0,
    'start of the Nth sandbox',
    'ms (corral run -d)',
    yMax,
    ticks.map((i) => [px(i), `${i + 1}`]),
  );
  out.push(
    `<polyline fill="none" stroke="${COLORS.gateway}" stroke-width="1.5" points="${starts.map((v, i) => `${px(i).toFixed(1)},${py(v).toFixed(1)}`).join(' ')}"/>`,
  );
  for (const [i, v] of starts.entries())
    out.push(`<circle cx="${px(i)}" cy="${py(v)}" r="2" fill="${COLORS.gateway}"/>`);
  out.push(text(x0 + w / 2, top + h + 34, 'sandbox number', 'text-anchor="middle" fill="#555"'));
  return out;
}

function memoryPanel(x0, checkpoints, daemon) {
  const { w, h, top } = PANEL;
  const kb = checkpoints.map((c) => c.idle);
  const totals = kb.map((m) => (m.gateway.pss + m.bridge.pss + m.forwarder.pss) / 1024);
  const rss = kb.map((m) => (m.gateway.rss + m.bridge.rss + m.forwarder.rss) / 1024);
  const yMax = niceMax(Math.max(45, ...totals, ...rss) * 1.1);
  const slot = w / checkpoints.length;
  const py = (v) => top + h - (h * v) / yMax;
  const out = axes(
    x0,
    'memory corral adds per workspace',
    'MB (PSS stacked; ◆ RSS)',
    yMax,
    checkpoints.map((c, i) => [x0 + slot * (i + 0.5), `N=${c.n}`]),
  );
  for (const [i, m] of kb.entries()) {
    let base = 0;
    const x = x0 + slot * i + slot * 0.25;
    for (const part of ['gateway', 'bridge', 'forwarder']) {
      const v = m[part].pss / 1024;
      out.push(
        `<rect x="${x}" y="${py(base + v)}" width="${slot * 0.5}" height="${py(base) - py(base + v)}" fill="${COLORS[part]}"/>`,
      );
      base += v;
    }
    out.push(text(x + slot * 0.25, py(base) - 6, `${base.toFixed(0)}`, 'text-anchor="middle"'));
    const cx = x + slot * 0.25;
    out.push(`<path d="M${cx} ${py(rss[i]) - 5} l5 5 l-5 5 l-5 -5 z" fill="#333"/>`);
  }
  out.push(
    `<line x1="${x0}" x2="${x0 + w}" y1="${py(40)}" y2="${py(40)}" stroke="#e15759" stroke-dasharray="6 4"/>`,
  );
  out.push(text(x0 + w - 4, py(40) - 4, 'target 40 MB', 'text-anchor="end" fill="#e15759"'));
  let lx = x0;
  for (const part of ['gateway', 'bridge', 'forwarder']) {
    out.push(`<rect x="${lx}" y="${top + h + 26}" width="10" height="10" fill="${COLORS[part]}"/>`);
    const label = part === 'bridge' && daemon ? 'bridge (daemon ÷ N)' : part;
    out.push(text(lx + 14, top + h + 35, label));
    lx += label.length > 10 ? 165 : 90;
  }
  return out;
}

function latencyPanel(x0, alone, checkpoints) {
  const { w, h, top } = PANEL;
  const rows = [
    { label: '1 alone', l: alone },
    ...checkpoints.map((c) => ({ label: `N=${c.n}`, l: c.latency })),
  ];
  const yMax = niceMax(Math.max(...rows.map((r) => r.l.p99)) * 1.1);
  const slot = w / rows.length;
  const py = (v) => top + h - (h * v) / yMax;
  const out = axes(
    x0,
    'gateway latency, all N busy',
    'ms per request (curl time_total)',
    yMax,
    rows.map((r, i) => [x0 + slot * (i + 0.5), r.label]),
  );
  for (const [i, r] of rows.entries()) {
    for (const [j, k] of ['p50', 'p99'].entries()) {
      const x = x0 + slot * i + slot * (0.15 + 0.35 * j);
      out.push(
        `<rect x="${x}" y="${py(r.l[k])}" width="${slot * 0.33}" height="${py(0) - py(r.l[k])}" fill="${COLORS[k]}"/>`,
      );
      out.push(
        text(x + slot * 0.165, py(r.l[k]) - 4, r.l[k].toFixed(1), 'text-anchor="middle" font-size="10"'),
      );
    }
  }
  let lx = x0;
  for (const k of ['p50', 'p99']) {
    out.push(`<rect x="${lx}" y="${top + h + 26}" width="10" height="10" fill="${COLORS[k]}"/>`);
    out.push(text(lx + 14, top + h + 35, k));
    lx += 70;
  }
  return out;
}

export function drawScaleSvg(r) {
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    text(
      20,
      24,
      `corral bench/scale on ${r.engine}${r.daemon ? ' (bridges in the daemon)' : ''}, ${r.date.slice(0, 16)} UTC, 2 cores shared with other work (${r.load.replace(/.*load/, 'load')})`,
      'font-size="13"',
    ),
    ...startsPanel(60, r.startsMs),
    ...memoryPanel(460, r.checkpoints, r.daemon),
    ...latencyPanel(850, r.alone, r.checkpoints),
    '</svg>',
  ];
  return parts.join('\n');
}
