// SwiGLU gate:   h[t, i] = silu(gate[t, i]) · up[t, i],   silu(v) = v / (1 + e^−v)      [num_tokens, FFN_DIM]

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
  let g = gate_then_h[i];
  gate_then_h[i] = g / (1.0 + exp(-g)) * up[i];
}
