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
