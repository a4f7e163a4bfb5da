// Gated linear unit of the feed-forward, in place:   h[t, i] = act(gate[t, i]) · up[t, i]     [num_tokens, FFN_DIM]
//   SwiGLU (GELU_TANH false): act(v) = silu(v) = v / (1 + e^−v)
//   GeGLU  (GELU_TANH true):  act(v) = ½·v·(1 + tanh(√(2/π)·(v + 0.044715·v³)))   (Gemma; ggml's tanh form)

@group(0) @binding(0) var<uniform> step: Step;
@group(0) @binding(1) var<storage, read> up: array<f32>;
@group(0) @binding(2) var<storage, read_write> gate_then_h: array<f32>;

const SQRT_2_OVER_PI: f32 = 0.7978845608;
const GELU_COEF_A: f32 = 0.044715;

fn gelu_tanh(v: f32) -> f32 {
  // ggml's bounds: beyond ±10 the result is v or 0 (and tanh never sees a large argument)
  if (v <= -10.0) {
    return 0.0;
  }
  if (v >= 10.0) {
    return v;
  }
  return 0.5 * v * (1.0 + tanh(SQRT_2_OVER_PI * v * (1.0 + GELU_COEF_A * v * v)));
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let t = gid.y;
  if (gid.x >= FFN_DIM || t >= step.num_tokens) {
    return;
  }
  let i = t * FFN_DIM + gid.x;
  let g = gate_then_h[i];
  if (GELU_TANH) {
    gate_then_h[i] = gelu_tanh(g) * up[i];
  } else {
    gate_then_h[i] = g / (1.0 + exp(-g)) * up[i];
  }
}
