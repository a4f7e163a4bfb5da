// RoPE angles for a step, computed on the CPU in exactly ggml's float sequence (ggml_rope_cache_init):
//   theta_scale = powf(freq_base, −2/rope_dim);  θ_0 = position;  θ_{i+1} = θ_i · theta_scale  (float32)
//   extrapolated angle  e_i = θ_i / factor_i               (factor_i: Llama 3 rope_freqs, Phi-3 LongRoPE; else 1)
//   interpolated angle  a_i = freq_scale · e_i
//   YaRN (ext_factor ≠ 0): a_i ← a_i·(1 − r_i) + e_i·r_i with r_i = ramp(i) · ext_factor, and the
//                          magnitude m ← m · (1 + 0.1·ln(1/freq_scale))
//   cos/sin = cos(a_i)·m, sin(a_i)·m    with m = attn_factor
// so the GPU rotates by the same angles llama.cpp does, at any position.

import type { RopeConfig } from "./config.js";

const fround = Math.fround;

/** ggml's rope_yarn_ramp: 1 below the correction range, 0 above it, linear between. */
function yarnRamp(low: number, high: number, pair: number): number {
  const y = fround(fround(pair - low) / Math.max(0.001, fround(high - low)));
  return fround(1 - Math.min(1, Math.max(0, y)));
}

/** The parts of a RopeConfig the angles depend on, with the factor tensor's values once loaded. */
export type RopeAngles = Omit<RopeConfig, "factorsTensor"> & { factors: Float32Array | null };

/** cos/sin pairs for each token position: [positions.length, ropeDim/2] × (cos, sin). */
export function ropeCosSin(positions: ArrayLike<number>, rope: RopeAngles): Float32Array {
  const { ropeDim, freqBase, freqScale, extFactor, corrDims, attnFactor, factors } = rope;
  const pairs = ropeDim / 2;
  const thetaScale = fround(Math.pow(freqBase, fround(-2 / ropeDim)));
  let magnitude = fround(attnFactor);
  if (extFactor !== 0) magnitude = fround(magnitude * fround(1 + fround(0.1 * fround(Math.log(fround(1 / freqScale))))));
  const table = new Float32Array(positions.length * pairs * 2);
  for (let t = 0; t < positions.length; t++) {
    let theta = fround(positions[t]!);
    for (let i = 0; i < pairs; i++) {
      const extrapolated = factors ? fround(theta / factors[i]!) : theta;
      let angle = fround(freqScale * extrapolated);
      if (extFactor !== 0) {
        const mix = fround(yarnRamp(corrDims[0], corrDims[1], i) * extFactor);
        angle = fround(fround(angle * fround(1 - mix)) + fround(extrapolated * mix));
      }
      table[(t * pairs + i) * 2] = Math.cos(angle) * magnitude;
      table[(t * pairs + i) * 2 + 1] = Math.sin(angle) * magnitude;
      theta = fround(theta * thetaScale);
    }
  }
  return table;
}
