// Numbers as the app shows them.

export function bytes(value: number): string {
  if (!Number.isFinite(value)) return "—";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = value;
  let i = 0;
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(2)} ${units[i]}`;
}

export function number(value: number, digits = 1): string {
  return Number.isFinite(value) ? value.toFixed(digits) : "—";
}

/** An error as the app shows it: class name, stable code, message. */
export function errorText(error: unknown): string {
  const e = error as { name?: string; code?: string; message?: string };
  return `${e?.name ?? "Error"} (${e?.code ?? "error"}): ${e?.message ?? String(error)}`;
}
