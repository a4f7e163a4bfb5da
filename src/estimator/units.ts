// Byte sizes in and out. Two families, never mixed silently:
//   binary  KiB MiB GiB TiB = 2^10, 2^20, 2^30, 2^40 B   (GPU memory is sold in these: a "24 GB" card holds 24 GiB)
//   decimal KB  MB  GB  TB  = 10^3, 10^6, 10^9, 10^12 B
// A bare "G" (or "M", "K", "T") means binary, as GPU sizes are quoted.

import { EstimatorError } from "./errors.js";

export const KiB = 1024;
export const MiB = 1024 ** 2;
export const GiB = 1024 ** 3;
export const TiB = 1024 ** 4;

const UNITS: Record<string, number> = {
  b: 1,
  k: KiB, kib: KiB, kb: 1e3,
  m: MiB, mib: MiB, mb: 1e6,
  g: GiB, gib: GiB, gb: 1e9,
  t: TiB, tib: TiB, tb: 1e12,
};

/** "24GiB" → 25769803776, "80 GB" → 8e10, "1.5T" → 1.5 × 2^40, "4096" → 4096 bytes. */
export function parseByteSize(text: string): number {
  const match = /^\s*([0-9]+(?:\.[0-9]+)?)\s*([a-zA-Z]*)\s*$/.exec(text);
  const unit = match?.[2]?.toLowerCase() ?? "";
  const scale = unit === "" ? 1 : UNITS[unit];
  if (!match || scale === undefined) {
    throw new EstimatorError(`cannot read "${text}" as a memory size (examples: 24GiB, 80GB, 16G, 512MiB)`);
  }
  const bytes = Math.floor(Number(match[1]) * scale);
  if (!(bytes > 0)) throw new EstimatorError(`memory size "${text}" must be more than 0 bytes`);
  return bytes;
}

/** 15032385536 → "14.00 GiB". */
export function formatBinary(bytes: number, digits = 2): string {
  if (bytes >= TiB) return `${(bytes / TiB).toFixed(digits)} TiB`;
  if (bytes >= GiB) return `${(bytes / GiB).toFixed(digits)} GiB`;
  if (bytes >= MiB) return `${(bytes / MiB).toFixed(digits)} MiB`;
  if (bytes >= KiB) return `${(bytes / KiB).toFixed(digits)} KiB`;
  return `${bytes} B`;
}

/** 15032385536 → "15.03 GB". */
export function formatDecimal(bytes: number, digits = 2): string {
  if (bytes >= 1e12) return `${(bytes / 1e12).toFixed(digits)} TB`;
  if (bytes >= 1e9) return `${(bytes / 1e9).toFixed(digits)} GB`;
  if (bytes >= 1e6) return `${(bytes / 1e6).toFixed(digits)} MB`;
  if (bytes >= 1e3) return `${(bytes / 1e3).toFixed(digits)} kB`;
  return `${bytes} B`;
}

/** "14.00 GiB (15.03 GB)". */
export function formatBytes(bytes: number): string {
  return bytes < KiB ? `${bytes} B` : `${formatBinary(bytes)} (${formatDecimal(bytes)})`;
}

/** 524288 → "524,288" (integers), 4.5 → "4.5". */
export function formatCount(value: number): string {
  if (!Number.isInteger(value)) return String(Number(value.toFixed(4)));
  return value.toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/** 6738415616 → "6.74B", 134515008 → "134.5M". */
export function formatParams(count: number): string {
  if (count >= 1e12) return `${(count / 1e12).toFixed(3)}T`;
  if (count >= 1e9) return `${(count / 1e9).toFixed(2)}B`;
  if (count >= 1e6) return `${(count / 1e6).toFixed(1)}M`;
  if (count >= 1e3) return `${(count / 1e3).toFixed(1)}K`;
  return String(count);
}
