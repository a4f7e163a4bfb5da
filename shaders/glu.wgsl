// Gated linear unit of the feed-forward, in place:   h[t, i] = act(gate[t, i]) · up[t, i]     [num_tokens, FFN_DIM]
//   SwiGLU (GELU_TANH false): act(v) = silu(v) = v / (1 + e^−v)
//   GeGLU  (GELU_TANH true):  act(v) = ½·v·(1 + tanh(√(2/π)·(v + 0.044715·v³)))   (Gemma; ggml's tanh form)
// (include activation.wgsl first). Decode and prefill fold this into the up projection (matmul.wgsl GLU);
// this kernel stays for the kernel tests and as the unfused reference.

@group(0) @binding(0) var<uniform> step: Step;
@group(0) @binding(1) var<storage, read> up: array<f32>;
@group(0) @binding(2) var<storage, read_write> gate_then_h: array<f32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let t = gid.y;
  if (gid.x >= FFN_DIM || t >= step.num_tokens) {
    return;
  }
  let i = t * FFN_DIM + gid.x;
  gate_then_h[i] = glu(gate_then_h[i], up[i]);
}
