/** One round of the global model as the chart draws it. */
export interface RoundPoint {
  round: number;
  accuracy?: number | null;
  loss?: number | null;
}

/** Accuracy (left axis, 0–1) and loss (right axis, 0–max) per round on a canvas. */
export function drawRoundChart(
  canvas: HTMLCanvasElement,
  points: readonly RoundPoint[],
  rounds: number,
): void {
  const g = canvas.getContext('2d');
  if (!g) return;
  const { width, height } = canvas;
  const pad = { left: 36, right: 36, top: 10, bottom: 24 };
  const w = width - pad.left - pad.right;
  const h = height - pad.top - pad.bottom;
  g.clearRect(0, 0, width, height);
  g.font = '11px system-ui';
  g.strokeStyle = '#ccd';
  g.fillStyle = '#556';
  g.strokeRect(pad.left, pad.top, w, h);
  const total = Math.max(rounds, ...points.map((p) => p.round), 2);
  const x = (round: number) => pad.left + ((round - 1) / (total - 1)) * w;
  const maxLoss = Math.max(0.5, ...points.map((p) => p.loss ?? 0));
  for (let i = 0; i <= 4; i++) {
    const y = pad.top + (i / 4) * h;
    g.fillText((1 - i / 4).toFixed(2), 4, y + 4);
    g.fillText(((1 - i / 4) * maxLoss).toFixed(2), width - pad.right + 4, y + 4);
  }
  for (let r = 1; r <= total; r += Math.max(1, Math.ceil(total / 10)))
    g.fillText(String(r), x(r) - 3, height - 8);
  series(g, points, x, (p) => (p.accuracy == null ? undefined : pad.top + (1 - p.accuracy) * h), '#2b6cb0');
  series(g, points, x, (p) => (p.loss == null ? undefined : pad.top + (1 - p.loss / maxLoss) * h), '#dd6b20');
}

function series(
  g: CanvasRenderingContext2D,
  points: readonly RoundPoint[],
  x: (round: number) => number,
  y: (p: RoundPoint) => number | undefined,
  colour: string,
): void {
  g.strokeStyle = colour;
  g.fillStyle = colour;
  g.lineWidth = 2;
  g.beginPath();
  let started = false;
  for (const p of points) {
    const py = y(p);
    if (py === undefined) continue;
    if (started) g.lineTo(x(p.round), py);
    else g.moveTo(x(p.round), py);
    started = true;
  }
  g.stroke();
  for (const p of points) {
    const py = y(p);
    if (py !== undefined) g.fillRect(x(p.round) - 3, py - 3, 6, 6);
  }
}
