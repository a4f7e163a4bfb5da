// A small SVG line chart: log2 x (context lengths), linear y from 0, one polyline per series (dashed for
// predictions), axis ticks and a legend. Hand-written so the app needs nothing beyond the library.

export interface ChartSeries {
  name: string;
  color: string;
  dashed?: boolean;
  points: { x: number; y: number }[];
}

const NS = "http://www.w3.org/2000/svg";

function el(tag: string, attributes: Record<string, string | number>, text?: string): SVGElement {
  const node = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attributes)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

export function lineChart(series: ChartSeries[], options: { yLabel: string; format: (y: number) => string }): SVGSVGElement {
  const width = 420;
  const height = 240;
  const pad = { left: 62, right: 10, top: 10, bottom: 56 };
  const xs = [...new Set(series.flatMap((s) => s.points.map((p) => p.x)))].sort((a, b) => a - b);
  const yMax = Math.max(1e-9, ...series.flatMap((s) => s.points.map((p) => p.y)).filter(Number.isFinite)) * 1.1;
  const lx = (x: number) => Math.log2(x);
  const [x0, x1] = [lx(xs[0] ?? 1), lx(xs.at(-1) ?? 2)];
  const px = (x: number) => pad.left + ((lx(x) - x0) / Math.max(1e-9, x1 - x0)) * (width - pad.left - pad.right);
  const py = (y: number) => height - pad.bottom - (y / yMax) * (height - pad.top - pad.bottom);
  const svg = el("svg", { viewBox: `0 0 ${width} ${height}`, width: "100%", role: "img", "aria-label": options.yLabel }) as SVGSVGElement;
  svg.append(el("line", { x1: pad.left, y1: py(0), x2: width - pad.right, y2: py(0), stroke: "#888" }));
  svg.append(el("line", { x1: pad.left, y1: py(0), x2: pad.left, y2: pad.top, stroke: "#888" }));
  for (const x of xs) svg.append(el("text", { x: px(x), y: py(0) + 12, "text-anchor": "middle" }, String(x)));
  for (let i = 0; i <= 4; i++) {
    const y = (yMax / 1.1) * (i / 4);
    svg.append(el("text", { x: pad.left - 4, y: py(y) + 3, "text-anchor": "end" }, options.format(y)));
    svg.append(el("line", { x1: pad.left, y1: py(y), x2: width - pad.right, y2: py(y), stroke: "#eee" }));
  }
  svg.append(el("text", { x: (width + pad.left) / 2, y: py(0) + 26, "text-anchor": "middle" }, "context (tokens, log scale)"));
  series.forEach((s, i) => {
    const points = s.points.filter((p) => Number.isFinite(p.y)).map((p) => `${px(p.x).toFixed(1)},${py(p.y).toFixed(1)}`).join(" ");
    svg.append(el("polyline", { points, fill: "none", stroke: s.color, "stroke-width": 2, "stroke-dasharray": s.dashed ? "5 3" : "none", "data-series": s.name }));
    for (const p of s.points) if (Number.isFinite(p.y)) svg.append(el("circle", { cx: px(p.x), cy: py(p.y), r: 2.5, fill: s.color }));
    const lx0 = pad.left + (i % 3) * 120;
    const ly = height - 14 + Math.floor(i / 3) * 0;
    svg.append(el("line", { x1: lx0, y1: ly - 3 - Math.floor(i / 3) * 10, x2: lx0 + 16, y2: ly - 3 - Math.floor(i / 3) * 10, stroke: s.color, "stroke-width": 2, "stroke-dasharray": s.dashed ? "5 3" : "none" }));
    svg.append(el("text", { x: lx0 + 20, y: ly - Math.floor(i / 3) * 10 }, s.name));
  });
  return svg;
}

export const COLORS = ["#2f6fde", "#d93025", "#17803d", "#9334e6", "#e37400", "#00838f", "#5f6368", "#c2185b"];
