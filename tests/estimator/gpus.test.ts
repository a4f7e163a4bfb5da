// The GPU catalog and --gpus parsing.

import { describe, expect, it } from "vitest";
import { GiB, GPU_CATALOG, parseGpus } from "../../src/estimator/index.js";

describe("--gpus", () => {
  it("reads COUNTxID, a bare ID and an ID without its size suffix, case-insensitively", () => {
    expect(parseGpus("8xH100-80GB")).toMatchObject({ count: 8, gpu: { id: "H100-80GB" } });
    expect(parseGpus("h200")).toMatchObject({ count: 1, gpu: { id: "H200-141GB", memory: 141 * GiB } });
    expect(parseGpus("2×rtx4090")).toMatchObject({ count: 2, gpu: { id: "RTX4090-24GB", memory: 24 * GiB } });
  });
  it("covers the datacenter cards, the RTX 3090/4090/5090 and Apple M-series unified memory", () => {
    for (const id of ["H100-80GB", "H200-141GB", "A100-80GB", "L40S-48GB", "RTX3090-24GB", "RTX4090-24GB", "RTX5090-32GB"]) {
      expect(GPU_CATALOG.some((g) => g.id === id), id).toBe(true);
    }
    const apple = GPU_CATALOG.filter((g) => g.link === "unified");
    expect(apple.length).toBeGreaterThan(0);
    for (const g of apple) expect(g.memory).toBeLessThan(Number(/(\d+)GB$/.exec(g.id)![1]) * GiB);
  });
  it("refuses what it cannot read, by name", () => {
    expect(() => parseGpus("8xB300")).toThrow(/unknown GPU "B300"/);
    expect(() => parseGpus("0xH100")).toThrow(/at least one GPU/);
    expect(() => parseGpus("eight H100s")).toThrow(/must look like 8xH100-80GB/);
  });
});
