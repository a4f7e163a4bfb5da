// Memory against context, one series per KV format: a text table and a hand-written SVG line chart
// (log2 context on x, GB on y, dashed lines at common device sizes). GB here is 2^30 bytes, the unit GPU
// memory is sold in; the table says so too.

import { EstimatorError } from "./errors.js";
import { estimate, type EstimateSettings } from "./estimate.js";
import type { ModelDescription } from "./model.js";
import { GiB } from "./units.js";

export interface SweepSeries {
  kvFormat: string;
  points: { context: number; bytes: number }[];
}

/** Device sizes drawn across the chart, in GB (2^30 B). */
export const DEVICE_LINES_GB = [24, 40, 80];

/** Powers of two p with low ≤ p ≤ high. */
export function powersOfTwoBetween(low: number, high: number): number[] {
  if (!Number.isInteger(low) || !Number.isInteger(high) || low < 1 || high < low) {
    throw new EstimatorError(`sweep range ${low}..${high} must be two integers with 1 ≤ low ≤ high`);
  }
  const contexts: number[] = [];
  for (let p = 1; p <= high; p *= 2) if (p >= low) contexts.push(p);
  if (contexts.length === 0) throw new EstimatorError(`sweep range ${low}..${high} holds no power of two`);
  return contexts;
}

export function sweep(
  model: ModelDescription, settings: Omit<EstimateSettings, "context" | "kvFormat" | "kvKFormat" | "kvVFormat" | "gpuMemory">,
  contexts: number[], kvFormats: string[],
): SweepSeries[] {
  return kvFormats.map((kvFormat) => ({
    kvFormat,
    points: contexts.map((context) => ({ context, bytes: estimate(model, { ...settings, context, kvFormat }).bytes.total })),
  }));
}

export function contextLabel(context: number): string {
  if (context >= 1048576 && context % 1048576 === 0) return `${context / 1048576}M`;
  if (context >= 1024 && context % 1024 === 0) return `${context / 1024}K`;
  return String(context);
}

/** Rows of context, one column per format, total GB. */
export function sweepTable(series: SweepSeries[]): string[] {
  const header = ["context", ...series.map((s) => `${s.kvFormat} (GB)`)];
  const rows = (series[0]?.points ?? []).map((point, i) => [
    contextLabel(point.context),
    ...series.map((s) => ((s.points[i]?.bytes ?? 0) / GiB).toFixed(2)),
  ]);
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? "").length)));
  const line = (cells: string[]) => cells.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join("  ");
  return [line(header), ...rows.map(line), "(GB = 2^30 bytes; totals: weights + kv + activations + attention scratch + overhead)"];
}

const COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"];

function escapeXml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** A step for y gridlines giving about five lines: 1, 2, 5 × 10^k. */
function niceStep(max: number): number {
  const rough = max / 5;
  const power = 10 ** Math.floor(Math.log10(rough));
  for (const m of [1, 2, 5, 10]) if (m * power >= rough) return m * power;
  return 10 * power;
}

export function sweepSvg(series: SweepSeries[], title: string): string {
  const width = 880, height = 520;
  const left = 80, right = 170, top = 50, bottom = 70;
  const plotW = width - left - right, plotH = height - top - bottom;
  const contexts = series[0]?.points.map((p) => p.context) ?? [1];
  const xMin = Math.log2(Math.min(...contexts));
  const xMax = Math.max(Math.log2(Math.max(...contexts)), xMin + 1);
  const dataMax = Math.max(...series.flatMap((s) => s.points.map((p) => p.bytes / GiB)), 0);
  const step = niceStep(Math.max(dataMax, ...DEVICE_LINES_GB) * 1.05);
  const yMax = Math.ceil((Math.max(dataMax, ...DEVICE_LINES_GB) * 1.05) / step) * step;
  const x = (context: number) => left + ((Math.log2(context) - xMin) / (xMax - xMin)) * plotW;
  const y = (gb: number) => top + plotH - (gb / yMax) * plotH;
  const f = (v: number) => v.toFixed(1);

  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`);
  out.push(`<title>${escapeXml(title)}</title>`);
  out.push(`<rect x="0" y="0" width="${width}" height="${height}" fill="white"/>`);
  out.push(`<text x="${width / 2}" y="24" text-anchor="middle" font-size="15">${escapeXml(title)}</text>`);
  for (let gb = 0; gb <= yMax + 1e-9; gb += step) {
    out.push(`<line class="grid" x1="${left}" y1="${f(y(gb))}" x2="${left + plotW}" y2="${f(y(gb))}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${left - 8}" y="${f(y(gb) + 4)}" text-anchor="end">${Number(gb.toFixed(6))}</text>`);
  }
  for (const context of contexts) {
    out.push(`<line class="grid" x1="${f(x(context))}" y1="${top}" x2="${f(x(context))}" y2="${top + plotH}" stroke="#f0f0f0"/>`);
    out.push(`<text x="${f(x(context))}" y="${top + plotH + 18}" text-anchor="middle">${contextLabel(context)}</text>`);
  }
  out.push(`<line class="axis" x1="${left}" y1="${top + plotH}" x2="${left + plotW}" y2="${top + plotH}" stroke="black"/>`);
  out.push(`<line class="axis" x1="${left}" y1="${top}" x2="${left}" y2="${top + plotH}" stroke="black"/>`);
  out.push(`<text x="${left + plotW / 2}" y="${height - 22}" text-anchor="middle">context (tokens per sequence, log2 scale)</text>`);
  out.push(`<text transform="translate(22 ${top + plotH / 2}) rotate(-90)" text-anchor="middle">GPU memory (GB = 2^30 bytes)</text>`);
  for (const gb of DEVICE_LINES_GB) {
    out.push(`<line class="device-line" data-gb="${gb}" x1="${left}" y1="${f(y(gb))}" x2="${left + plotW}" y2="${f(y(gb))}" stroke="#555" stroke-dasharray="6 4"/>`);
    out.push(`<text x="${left + 6}" y="${f(y(gb) - 4)}" fill="#555">${gb} GB device</text>`);
  }
  series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length]!;
    const points = s.points.map((p) => `${f(x(p.context))},${f(y(p.bytes / GiB))}`).join(" ");
    out.push(`<polyline class="series" data-kv-format="${escapeXml(s.kvFormat)}" fill="none" stroke="${color}" stroke-width="2" points="${points}"/>`);
    const ly = top + 10 + i * 20;
    out.push(`<line class="legend" x1="${left + plotW + 16}" y1="${ly}" x2="${left + plotW + 40}" y2="${ly}" stroke="${color}" stroke-width="2"/>`);
    out.push(`<text x="${left + plotW + 46}" y="${ly + 4}">KV ${escapeXml(s.kvFormat)}</text>`);
  });
  out.push(`</svg>`);
  return out.join("\n") + "\n";
}
