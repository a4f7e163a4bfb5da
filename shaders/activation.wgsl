// The gated activations of the feed-forward (a library: glu.wgsl and matmul.wgsl's GLU epilogue include it,
// so both compute act(gate)·up with the very same expression):
//   silu(v) = v / (1 + e^−v)                                     SwiGLU
//   gelu_tanh(v) = ½·v·(1 + tanh(√(2/π)·(v + 0.044715·v³)))      GeGLU (Gemma; ggml's tanh form)

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

/// act(gate)·up, act chosen by GELU_TANH.
fn glu(gate: f32, up: f32) -> f32 {
  if (GELU_TANH) {
    return gelu_tanh(gate) * up;
  }
  return gate / (1.0 + exp(-gate)) * up;
}
