/** One line of a plot: a label and its points; `dashed` for a reference (e.g. a baseline). */
export interface Series {
  label: string;
  points: readonly { x: number; y: number }[];
  dashed?: boolean;
  /** Draw the points as dots only (a scatter), not joined. */
  dotsOnly?: boolean;
}

export interface PlotOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  width?: number;
  height?: number;
  /** The y range; by default the data's, padded. */
  yRange?: [number, number];
}

const PALETTE = [
  '#1f77b4',
  '#d62728',
  '#2ca02c',
  '#ff7f0e',
  '#9467bd',
  '#8c564b',
  '#e377c2',
  '#17becf',
  '#7f7f7f',
  '#bcbd22',
];

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Round numbers 1, 2, 5 × 10^k that split [lo, hi] into about `count` steps. */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  const span = hi - lo || Math.abs(hi) || 1;
  const raw = span / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? 10 * power;
  const ticks: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step)
    ticks.push(Number(t.toPrecision(12)));
  return ticks;
}

/**
 * A self-contained SVG line plot (axes, ticks, a legend), readable in any browser or on GitHub;
 * no plotting library needed for a few lines of a report.
 *
 * @example
 * writeFileSync('acc.svg', linePlot([{ label: 'fedavg', points: [{ x: 1, y: 0.9 }] }], { title: 'accuracy', xLabel: 'round', yLabel: 'accuracy' }));
 */
export function linePlot(series: readonly Series[], options: PlotOptions): string {
  const width = options.width ?? 760;
  const height = options.height ?? 440;
  const legendWidth = 230;
  const margin = { left: 64, right: legendWidth + 16, top: 36, bottom: 48 };
  const all = series.flatMap((s) => s.points).filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y));
  const xs = all.map((p) => p.x);
  const ys = all.map((p) => p.y);
  const xLo = xs.length ? Math.min(...xs) : 0;
  const xHi = xs.length ? Math.max(...xs) : 1;
  const pad = ys.length ? (Math.max(...ys) - Math.min(...ys)) * 0.05 || 0.01 : 0.5;
  const [yLo, yHi] = options.yRange ?? [
    ys.length ? Math.min(...ys) - pad : 0,
    ys.length ? Math.max(...ys) + pad : 1,
  ];
  const plotW = width - margin.left - margin.right;
  const plotH = height - margin.top - margin.bottom;
  const sx = (x: number) => margin.left + ((x - xLo) / (xHi - xLo || 1)) * plotW;
  const sy = (y: number) =>
    margin.top + plotH - ((Math.min(yHi, Math.max(yLo, y)) - yLo) / (yHi - yLo || 1)) * plotH;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<title>${escapeXml(options.title)}</title>`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${margin.left + plotW / 2}" y="20" text-anchor="middle" font-size="15">${escapeXml(options.title)}</text>`,
  ];
  for (const t of niceTicks(yLo, yHi)) {
    if (t < yLo || t > yHi) continue;
    out.push(
      `<line x1="${margin.left}" x2="${margin.left + plotW}" y1="${sy(t).toFixed(1)}" y2="${sy(t).toFixed(1)}" stroke="#e5e5e5"/>`,
      `<text x="${margin.left - 6}" y="${(sy(t) + 4).toFixed(1)}" text-anchor="end">${t}</text>`,
    );
  }
  for (const t of niceTicks(xLo, xHi, 8)) {
    out.push(
      `<line x1="${sx(t).toFixed(1)}" x2="${sx(t).toFixed(1)}" y1="${margin.top + plotH}" y2="${margin.top + plotH + 4}" stroke="black"/>`,
      `<text x="${sx(t).toFixed(1)}" y="${margin.top + plotH + 18}" text-anchor="middle">${t}</text>`,
    );
  }
  out.push(
    `<rect x="${margin.left}" y="${margin.top}" width="${plotW}" height="${plotH}" fill="none" stroke="black"/>`,
    `<text x="${margin.left + plotW / 2}" y="${height - 10}" text-anchor="middle">${escapeXml(options.xLabel)}</text>`,
    `<text transform="translate(16 ${margin.top + plotH / 2}) rotate(-90)" text-anchor="middle">${escapeXml(options.yLabel)}</text>`,
  );
  series.forEach((s, i) => {
    const color = PALETTE[i % PALETTE.length];
    const points = s.points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y));
    const path = points.map((p) => `${sx(p.x).toFixed(1)},${sy(p.y).toFixed(1)}`).join(' ');
    if (!s.dotsOnly && points.length > 1) {
      out.push(
        `<polyline points="${path}" fill="none" stroke="${color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`,
      );
    }
    for (const p of points) {
      out.push(
        `<circle cx="${sx(p.x).toFixed(1)}" cy="${sy(p.y).toFixed(1)}" r="${s.dotsOnly ? 4 : 2}" fill="${color}"/>`,
      );
    }
    const ly = margin.top + 8 + i * 18;
    const lx = width - legendWidth;
    out.push(
      `<line x1="${lx}" x2="${lx + 20}" y1="${ly}" y2="${ly}" stroke="${color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`,
      `<text x="${lx + 26}" y="${ly + 4}">${escapeXml(s.label.length > 34 ? `${s.label.slice(0, 33)}…` : s.label)}</text>`,
    );
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
