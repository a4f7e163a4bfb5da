// Row-wise pointwise operations on activations, one invocation per element:
//   OP_BIAS:    y[t, OFFSET + i] += b[i]                 (projection biases; rows are the step's tokens)
//               the wrapper puts the `b` binding and `bias_at` at the marker below
//   OP_SCALE:   y[t, i] *= FACTOR                        (Gemma's √dim embedding scale)
//   OP_SOFTCAP: y[r, i] = FACTOR · tanh(y[r, i] / FACTOR) (final logit soft-capping; rows are logit rows)
// y rows are ROW_STRIDE floats apart; i < N.

@group(0) @binding(0) var<uniform> step: Step;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;

const OP_BIAS: u32 = 0u;
const OP_SCALE: u32 = 1u;
const OP_SOFTCAP: u32 = 2u;

// Without a bias binding (scale, soft-cap) the module declares no `b` at all.
// @bias-binding

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  let r = gid.y;
  let rows = select(step.num_tokens, step.num_logit_rows, OP == OP_SOFTCAP);
  if (i >= N || r >= rows) {
    return;
  }
  let at = r * ROW_STRIDE + OFFSET + i;
  if (OP == OP_BIAS) {
    y[at] += bias_at(i);
  } else if (OP == OP_SCALE) {
    y[at] *= FACTOR;
  } else {
    y[at] = FACTOR * tanh(clamp(y[at] / FACTOR, -15.0, 15.0));
  }
}
