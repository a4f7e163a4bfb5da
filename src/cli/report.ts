// Readable tables for the terminal: the memory report and timing lines.

import { MEMORY_CATEGORIES } from "../gpu/memory.js";
import type { MemoryReport } from "./memory-report.js";

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 2 : 1)} ${units[unit]}`;
}

/** A relative error as a signed percentage; "—" where there is none. */
export const percent = (x: number | null | undefined) => (x === null || x === undefined ? "—" : `${x >= 0 ? "+" : ""}${(x * 100).toFixed(2)}%`);

/** measured (live, peak) · predicted · error per category, and the observed total. */
export function memoryTable(report: MemoryReport): string {
  const categories = [...MEMORY_CATEGORIES, "total" as const];
  const rows = [
    ["category", "live", "peak", "predicted", "error"],
    ...categories.map((c) => [
      c, formatBytes(report.measured[c].live), formatBytes(report.measured[c].peak), formatBytes(report.predicted[c]), percent(report.relative_error[c]),
    ]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const table = rows.map((r) => r.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join("  ")).join("\n");
  const observed = report.observed
    ? `observed: the GPU process grew by ${formatBytes(report.observed.total)} at its peak (${percent(report.observed.relative_error)} vs measured total), ` +
      `${formatBytes(report.observed.at_end)} at the end of the run (${percent(report.observed.at_end_relative_error)}) — ${report.observed.source}`
    : `observed: n/a — ${report.observed_note}`;
  return `${table}\n${observed}`;
}

export function markdownTable(header: string[], rows: (string | number)[][]): string {
  const line = (cells: (string | number)[]) => `| ${cells.join(" | ")} |`;
  return [line(header), line(header.map(() => "---")), ...rows.map(line)].join("\n");
}
