// The model catalog bundled into the library: the manifests of models/*.json (URL, sha256, size, license,
// notes — never weights), so `createEngine({ model: "stories260K" })` knows where to download from and
// what hash to check.

export interface CatalogEntry {
  name: string;
  file: string;
  url: string;
  sha256: string | null;
  bytes: number | null;
  license: string;
  notes: string;
}

const manifests = import.meta.glob<CatalogEntry>("../../models/*.json", { eager: true, import: "default" });

export const CATALOG: readonly CatalogEntry[] = Object.values(manifests).sort((a, b) => a.name.localeCompare(b.name));

export function catalogEntry(name: string): CatalogEntry | undefined {
  return CATALOG.find((entry) => entry.name === name);
}
