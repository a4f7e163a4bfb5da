// docs/seed-claims.md is generated: the checked-in file must equal what the generator writes today.

import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { SEED_CLAIMS_PATH, seedClaimsMarkdown } from "../../bench/seed-claims.js";

describe("docs/seed-claims.md", () => {
  it("equals the output of bench/seed-claims.ts (regenerate with: npx tsx bench/seed-claims.ts)", () => {
    expect(readFileSync(SEED_CLAIMS_PATH, "utf8")).toBe(seedClaimsMarkdown());
  });

  it("states the headline corrections", () => {
    const doc = seedClaimsMarkdown();
    expect(doc).toContain("524,288 B/token × 28,672 = 14.00 GiB (15.03 GB)");
    expect(doc).toContain("43.75% smaller (4.5 vs 8 bits per value)");
    expect(doc).toContain("(512 + 64) × 61 × 2 B = 70,272");
    expect(doc).toContain("516.10 MB per 1,000 tokens for the whole model in f16");
  });
});
