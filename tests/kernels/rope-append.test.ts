// RoPE in the KV append's dispatch (kv_append.wgsl's main_rope, tuning.ropeInAppend): q and k turned and the cache
// written exactly as rope.wgsl then the plain append do it — bit for bit, for f32 and f16 sections, partial rotary,
// tokens across blocks and an int8 V section (its tail) — and q, k against the CPU's RoPE.

import { describe, expect, it } from "vitest";
import { Random } from "../../src/gguf/random.js";
import { parseKvSection, type KvCacheFormat } from "../../src/kv/formats.js";
import { maxAbsDiff, useBrowserSession } from "../helpers/browser.js";
import { ropeRef } from "./reference.js";

const session = useBrowserSession();

const format = (k: string, v: string): KvCacheFormat => ({ k: parseKvSection(k, "k"), v: parseKvSection(v, "v") });

describe("RoPE in the KV append: the same q, k and cache as rope then append", () => {
  const cases = [
    { name: "f32 cache, full rotary", kvFormat: format("f32", "f32"), headDim: 16, ropeDim: 16 },
    { name: "f16 cache, partial rotary (8 of 16 dims)", kvFormat: format("f16", "f16"), headDim: 16, ropeDim: 8 },
    { name: "f32 K, int8 V (V's tail)", kvFormat: format("f32", "int8"), headDim: 32, ropeDim: 32 },
  ];
  it.each(cases)("$name", async (c) => {
    const qHeads = 4;
    const kvHeads = 2;
    const positions = [3, 4, 5, 6, 7, 8, 9, 30]; // across blocks of 8, the last one alone in its block
    const random = new Random(41);
    const q = random.normals(positions.length * qHeads * c.headDim);
    const k = random.normals(positions.length * kvHeads * c.headDim);
    const v = random.normals(positions.length * kvHeads * c.headDim);
    const request = { q, k, v, positions, qHeads, kvHeads, headDim: c.headDim, ropeDim: c.ropeDim, freqBase: 10000, blockSize: 8, kvFormat: c.kvFormat };
    type Out = { q: Float32Array; k: Float32Array; pool: Uint32Array };
    const fused = await session().call<Out>("lab.ropeAppend", { ...request, inAppend: true });
    const apart = await session().call<Out>("lab.ropeAppend", { ...request, inAppend: false });
    expect(Array.from(fused.q)).toEqual(Array.from(apart.q));
    expect(Array.from(fused.k)).toEqual(Array.from(apart.k));
    expect(Array.from(fused.pool)).toEqual(Array.from(apart.pool));
    expect(fused.pool.some((word) => word !== 0)).toBe(true);
    expect(maxAbsDiff(fused.q, ropeRef(q, qHeads, c.headDim, c.ropeDim, 10000, positions))).toBeLessThan(1e-4);
    expect(maxAbsDiff(fused.k, ropeRef(k, kvHeads, c.headDim, c.ropeDim, 10000, positions))).toBeLessThan(1e-4);
    // dims past the rotary ones are untouched
    if (c.ropeDim < c.headDim) expect(fused.q[c.ropeDim]).toBe(q[c.ropeDim]);
  });

  it("refuses a quantized K section (its seal reads k before the append)", async () => {
    const n = 2;
    const request = {
      q: new Float32Array(n * 4 * 32), k: new Float32Array(n * 2 * 32), v: new Float32Array(n * 2 * 32), positions: [0, 1],
      qHeads: 4, kvHeads: 2, headDim: 32, ropeDim: 32, freqBase: 10000, blockSize: 8, kvFormat: format("int8", "f32"), inAppend: true,
    };
    await expect(session().call("lab.ropeAppend", request)).rejects.toThrow(/RoPE cannot be applied in the KV append with a int8 K section/);
  });
});
