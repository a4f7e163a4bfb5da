// The kernels other architectures add to Llama's, each against its CPU reference (tests/kernels/reference.ts)
// through its real wrapper in headless Chromium: NeoX and partial RoPE, per-head q/k RMSNorm (Qwen3, Gemma 3),
// GeGLU (Gemma), bias add / scale / soft-cap (Qwen2 biases, Gemma's √dim and final soft-cap), attention with
// its own query scale and score soft-cap (Gemma 2), and RMSNorm added into the residual (Gemma post-norms).

import { describe, expect, it } from "vitest";
import { Random } from "../../src/gguf/random.js";
import { maxAbsDiff, useBrowserSession } from "../helpers/browser.js";
import { attentionCase, type AttentionCase } from "./attention-cases.js";
import { gegluRef, headNormRef, rmsnormRef, ropeRef } from "./reference.js";

const session = useBrowserSession();

describe("rope, NeoX pairs and partial rotary", () => {
  it.each([
    { headDim: 64, ropeDim: 64, neox: true },
    { headDim: 96, ropeDim: 64, neox: true },
    { headDim: 64, ropeDim: 48, neox: false },
  ])("head_dim $headDim, rope_dim $ropeDim, neox $neox", async ({ headDim, ropeDim, neox }) => {
    const random = new Random(headDim + ropeDim);
    const positions = [0, 1, 5, 100, 1023];
    const q = random.normals(positions.length * 4 * headDim);
    const k = random.normals(positions.length * 2 * headDim);
    const base = 1000000;
    const gpu = await session().call<{ q: Float32Array; k: Float32Array }>("lab.rope", {
      q, k, positions, qHeads: 4, kvHeads: 2, headDim, ropeDim, freqBase: base, neox,
    });
    expect(maxAbsDiff(gpu.q, ropeRef(q, 4, headDim, ropeDim, base, positions, neox))).toBeLessThan(1e-3);
    expect(maxAbsDiff(gpu.k, ropeRef(k, 2, headDim, ropeDim, base, positions, neox))).toBeLessThan(1e-3);
    // the unrotated tail of each head is untouched, bit for bit
    for (let h = 0; h < positions.length * 2; h++) {
      for (let d = ropeDim; d < headDim; d++) expect(gpu.k[h * headDim + d]).toBe(k[h * headDim + d]);
    }
  });
});

describe("per-head RMSNorm of q and k", () => {
  it("normalizes every head with its own weights", async () => {
    const random = new Random(21);
    const headDim = 64;
    const numTokens = 5;
    const q = random.normals(numTokens * 8 * headDim, 3);
    const k = random.normals(numTokens * 2 * headDim, 2);
    const qNorm = random.normals(headDim, 0.3, 1);
    const kNorm = random.normals(headDim, 0.3, 1);
    const gpu = await session().call<{ q: Float32Array; k: Float32Array }>("lab.headNorm", {
      q, k, qNorm, kNorm, qHeads: 8, kvHeads: 2, headDim, eps: 1e-6, numTokens,
    });
    expect(maxAbsDiff(gpu.q, headNormRef(q, qNorm, headDim, 1e-6))).toBeLessThan(1e-5);
    expect(maxAbsDiff(gpu.k, headNormRef(k, kNorm, headDim, 1e-6))).toBeLessThan(1e-5);
  });
});

describe("gated activations", () => {
  it("gelu-tanh(gate)·up, including the ±10 bounds", async () => {
    const random = new Random(9);
    const gate = random.normals(4 * 96, 4);
    gate[0] = 12;
    gate[1] = -12;
    const up = random.normals(4 * 96);
    const gpu = await session().call<Float32Array>("lab.glu", { gate, up, ffnDim: 96, numTokens: 4, activation: "gelu_tanh" });
    expect(maxAbsDiff(gpu, gegluRef(gate, up))).toBeLessThan(1e-5);
  });
});

describe("pointwise row operations", () => {
  const random = new Random(31);
  const n = 70;
  const rows = 3;
  const y = random.normals(rows * n, 40);
  it("bias: every row gets the same vector added", async () => {
    const bias = random.normals(n);
    const gpu = await session().call<Float32Array>("lab.pointwise", { y, n, rows, op: "bias", bias });
    expect(maxAbsDiff(gpu, Array.from(y, (v, i) => v + bias[i % n]!))).toBeLessThan(1e-5);
  });
  it("scale by a whole number (written to WGSL as a float)", async () => {
    const gpu = await session().call<Float32Array>("lab.pointwise", { y, n, rows, op: "scale", factor: 8 });
    expect(maxAbsDiff(gpu, Array.from(y, (v) => v * 8))).toBeLessThan(1e-5);
  });
  it("soft-cap: cap·tanh(v/cap)", async () => {
    const gpu = await session().call<Float32Array>("lab.pointwise", { y, n, rows, op: "softcap", factor: 30 });
    expect(maxAbsDiff(gpu, Array.from(y, (v) => 30 * Math.tanh(v / 30)))).toBeLessThan(1e-4);
  });
});

describe("rmsnorm added into the residual stream", () => {
  it("y += rmsnorm(x)·g", async () => {
    const random = new Random(41);
    const dim = 128;
    const x = random.normals(3 * dim, 5);
    const weight = random.normals(dim, 0.2, 1);
    const y0 = random.normals(3 * dim);
    const gpu = await session().call<Float32Array>("lab.rmsnorm", { x, weight, dim, eps: 1, numTokens: 3, y0 });
    const normed = rmsnormRef(x, weight, dim, 1, [0, 1, 2]);
    expect(maxAbsDiff(gpu, Array.from(normed, (v, i) => v + y0[i]!))).toBeLessThan(1e-5);
  });
});

describe("attention with a query scale and a score soft-cap (Gemma 2)", () => {
  const cases: AttentionCase[] = [
    { qHeads: 8, kvHeads: 4, headDim: 32, blockSize: 16, window: 0, seqs: [{ contextLen: 0, numNew: 19 }], scale: 0.4, softcap: 2 },
    { qHeads: 8, kvHeads: 2, headDim: 32, blockSize: 8, window: 9, seqs: [{ contextLen: 40, numNew: 1 }, { contextLen: 3, numNew: 6 }], scale: 0.3, softcap: 1.5 },
  ];
  it.each(cases.flatMap((c, i) => (["flash", "naive"] as const).map((kind) => ({ ...c, i, kind }))))(
    "$kind case $i: window $window, scale $scale, softcap $softcap",
    async (c) => {
      const { request, expected } = attentionCase(c, 300 + c.i);
      const { out } = await session().call<{ out: Float32Array }>("lab.attention", { kind: c.kind, ...request });
      expect(maxAbsDiff(out, expected)).toBeLessThan(1e-4);
      // the cap matters: without it the answer differs
      const { expected: uncapped } = attentionCase({ ...c, softcap: 0 }, 300 + c.i);
      expect(maxAbsDiff(out, uncapped)).toBeGreaterThan(1e-2);
    },
  );
});
