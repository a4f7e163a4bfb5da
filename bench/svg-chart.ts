// A grouped bar chart as a standalone SVG (no dependencies): one group per label, one bar per series, on a
// log scale (rates span orders of magnitude between a WebAssembly CPU peer and a 135M model on SwiftShader).

const COLORS = ["#1f77b4", "#aec7e8", "#ff7f0e", "#ffbb78", "#2ca02c", "#98df8a", "#d62728", "#9467bd"];

const escape = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

export function barChartSvg(
  title: string,
  groups: string[],
  series: string[],
  value: (group: string, series: string) => number | undefined,
): string {
  const bar = 14;
  const groupWidth = series.length * bar + 24;
  const left = 60;
  const top = 40;
  const plotHeight = 260;
  const width = left + groups.length * groupWidth + 20;
  const legendTop = top + plotHeight + 90;
  const height = legendTop + series.length * 16 + 10;
  const values = groups.flatMap((g) => series.map((s) => value(g, s))).filter((v): v is number => v !== undefined && v > 0);
  const lo = Math.floor(Math.log10(Math.min(...values, 1)));
  const hi = Math.ceil(Math.log10(Math.max(...values, 10)));
  const y = (v: number) => top + plotHeight - ((Math.log10(v) - lo) / (hi - lo)) * plotHeight;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${left}" y="20" font-size="14">${escape(title)}</text>`,
  ];
  for (let e = lo; e <= hi; e++) {
    parts.push(`<line x1="${left}" x2="${width - 10}" y1="${y(10 ** e)}" y2="${y(10 ** e)}" stroke="#ddd"/>`);
    parts.push(`<text x="${left - 6}" y="${y(10 ** e) + 4}" text-anchor="end">${10 ** e >= 1 ? 10 ** e : (10 ** e).toFixed(-e)}</text>`);
  }
  groups.forEach((g, gi) => {
    const x0 = left + gi * groupWidth + 12;
    series.forEach((s, si) => {
      const v = value(g, s);
      if (v === undefined || v <= 0) return;
      parts.push(`<rect x="${x0 + si * bar}" y="${y(v)}" width="${bar - 2}" height="${top + plotHeight - y(v)}" fill="${COLORS[si % COLORS.length]}"><title>${escape(`${s}: ${v.toFixed(1)}`)}</title></rect>`);
    });
    const cx = x0 + (series.length * bar) / 2;
    parts.push(`<text transform="translate(${cx},${top + plotHeight + 12}) rotate(30)" >${escape(g)}</text>`);
  });
  series.forEach((s, si) => {
    parts.push(`<rect x="${left}" y="${legendTop + si * 16 - 9}" width="10" height="10" fill="${COLORS[si % COLORS.length]}"/>`);
    parts.push(`<text x="${left + 16}" y="${legendTop + si * 16}">${escape(s)}</text>`);
  });
  parts.push("</svg>");
  return parts.join("\n") + "\n";
}
