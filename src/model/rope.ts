// RoPE angles for a step, computed on the CPU in exactly ggml's float sequence (ggml_rope_cache_init):
//   theta_scale = powf(freq_base, −2/rope_dim);  θ_0 = position;  θ_{i+1} = θ_i · theta_scale  (float32)
//   cos/sin of freq_scale · θ_i
// so the GPU rotates by the same angles llama.cpp does, at any position.

const fround = Math.fround;

/** cos/sin pairs for each token position: [positions.length, ropeDim/2] × (cos, sin). */
export function ropeCosSin(positions: ArrayLike<number>, ropeDim: number, freqBase: number, freqScale: number): Float32Array {
  const pairs = ropeDim / 2;
  const thetaScale = fround(Math.pow(freqBase, fround(-2 / ropeDim)));
  const table = new Float32Array(positions.length * pairs * 2);
  for (let t = 0; t < positions.length; t++) {
    let theta = fround(positions[t]!);
    for (let i = 0; i < pairs; i++) {
      const angle = fround(freqScale * theta);
      table[(t * pairs + i) * 2] = Math.cos(angle);
      table[(t * pairs + i) * 2 + 1] = Math.sin(angle);
      theta = fround(theta * thetaScale);
    }
  }
  return table;
}
