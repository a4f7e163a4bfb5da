// The llama.cpp validation chart: predicted vs reported MiB per point and category, log-log, with the y = x line.

export interface ValidationDot {
  category: string;
  predicted: number;
  reported: number;
}

const COLORS: Record<string, string> = { weights: "#1f77b4", kv: "#2ca02c", compute: "#d62728", output: "#9467bd", total: "#333333" };

export function validationSvg(dots: ValidationDot[], title: string): string {
  const width = 760, height = 560, left = 80, right = 150, top = 50, bottom = 60;
  const plotW = width - left - right, plotH = height - top - bottom;
  const values = dots.flatMap((d) => [d.predicted, d.reported]).filter((v) => v > 0);
  const lo = Math.floor(Math.log10(Math.min(...values)));
  const hi = Math.ceil(Math.log10(Math.max(...values)));
  const x = (v: number) => left + ((Math.log10(v) - lo) / (hi - lo)) * plotW;
  const y = (v: number) => top + plotH - ((Math.log10(v) - lo) / (hi - lo)) * plotH;
  const f = (v: number) => v.toFixed(1);
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect x="0" y="0" width="${width}" height="${height}" fill="white"/>`,
    `<text x="${width / 2}" y="24" text-anchor="middle" font-size="15">${title}</text>`,
  ];
  for (let p = lo; p <= hi; p++) {
    const v = 10 ** p;
    out.push(`<line x1="${f(x(v))}" y1="${top}" x2="${f(x(v))}" y2="${top + plotH}" stroke="#eee"/>`);
    out.push(`<line x1="${left}" y1="${f(y(v))}" x2="${left + plotW}" y2="${f(y(v))}" stroke="#eee"/>`);
    out.push(`<text x="${f(x(v))}" y="${top + plotH + 18}" text-anchor="middle">${v}</text>`);
    out.push(`<text x="${left - 8}" y="${f(y(v) + 4)}" text-anchor="end">${v}</text>`);
  }
  out.push(`<line x1="${f(x(10 ** lo))}" y1="${f(y(10 ** lo))}" x2="${f(x(10 ** hi))}" y2="${f(y(10 ** hi))}" stroke="#999" stroke-dasharray="4 4"/>`);
  out.push(`<text x="${left + plotW / 2}" y="${height - 18}" text-anchor="middle">reported by llama.cpp (MiB, log scale)</text>`);
  out.push(`<text transform="translate(22 ${top + plotH / 2}) rotate(-90)" text-anchor="middle">predicted by webkv estimate --runtime llamacpp (MiB)</text>`);
  for (const d of dots) {
    if (!(d.predicted > 0 && d.reported > 0)) continue;
    out.push(`<circle cx="${f(x(d.reported))}" cy="${f(y(d.predicted))}" r="3.5" fill="none" stroke="${COLORS[d.category] ?? "black"}"/>`);
  }
  Object.entries(COLORS).forEach(([name, color], i) => {
    out.push(`<circle cx="${left + plotW + 20}" cy="${top + 10 + i * 20}" r="4" fill="none" stroke="${color}"/>`);
    out.push(`<text x="${left + plotW + 30}" y="${top + 14 + i * 20}">${name}</text>`);
  });
  out.push("</svg>");
  return out.join("\n") + "\n";
}

/** Per-point relative error of compute and total (predicted / reported − 1), with the ±5% and ±2% bounds. */
export function errorSvg(points: { compute: number; total: number; shape: string }[], title: string): string {
  const width = 900, height = 420, left = 70, right = 150, top = 50, bottom = 70;
  const plotW = width - left - right, plotH = height - top - bottom;
  const limit = 0.06;
  const x = (i: number) => left + ((i + 0.5) / points.length) * plotW;
  const y = (e: number) => top + plotH / 2 - (e / limit) * (plotH / 2);
  const f = (v: number) => v.toFixed(1);
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect x="0" y="0" width="${width}" height="${height}" fill="white"/>`,
    `<text x="${width / 2}" y="24" text-anchor="middle" font-size="15">${title}</text>`,
  ];
  for (const pct of [-6, -5, -4, -2, 0, 2, 4, 5, 6]) {
    const bound = Math.abs(pct) === 5 ? "#d62728" : Math.abs(pct) === 2 ? "#333" : "#eee";
    out.push(`<line x1="${left}" y1="${f(y(pct / 100))}" x2="${left + plotW}" y2="${f(y(pct / 100))}" stroke="${bound}"${Math.abs(pct) === 5 || Math.abs(pct) === 2 ? ' stroke-dasharray="4 4"' : ""}/>`);
    out.push(`<text x="${left - 8}" y="${f(y(pct / 100) + 4)}" text-anchor="end">${pct}%</text>`);
  }
  let start = 0;
  points.forEach((p, i) => {
    if (i === points.length - 1 || points[i + 1]!.shape !== p.shape) {
      out.push(`<text x="${f((x(start) + x(i)) / 2)}" y="${top + plotH + 18}" text-anchor="middle">${p.shape}</text>`);
      if (i < points.length - 1) out.push(`<line x1="${f(x(i) + plotW / points.length / 2)}" y1="${top}" x2="${f(x(i) + plotW / points.length / 2)}" y2="${top + plotH}" stroke="#ccc"/>`);
      start = i + 1;
    }
    out.push(`<circle cx="${f(x(i))}" cy="${f(y(p.compute))}" r="3" fill="none" stroke="#d62728"/>`);
    out.push(`<rect x="${f(x(i) - 2.5)}" y="${f(y(p.total) - 2.5)}" width="5" height="5" fill="none" stroke="#333"/>`);
  });
  out.push(`<text x="${left + plotW / 2}" y="${height - 22}" text-anchor="middle">bench points (contexts, KV types, flash attention on/off, weight formats)</text>`);
  out.push(`<text transform="translate(18 ${top + plotH / 2}) rotate(-90)" text-anchor="middle">predicted / reported − 1</text>`);
  out.push(`<circle cx="${left + plotW + 20}" cy="${top + 10}" r="4" fill="none" stroke="#d62728"/><text x="${left + plotW + 30}" y="${top + 14}">compute (bound 5%)</text>`);
  out.push(`<rect x="${left + plotW + 16}" y="${top + 26}" width="8" height="8" fill="none" stroke="#333"/><text x="${left + plotW + 30}" y="${top + 34}">total (bound 2%)</text>`);
  out.push("</svg>");
  return out.join("\n") + "\n";
}
