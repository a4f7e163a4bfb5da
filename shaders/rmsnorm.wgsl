// RMSNorm, one workgroup per row:   y[r, :] (+)= x[src(r), :] · g / sqrt(mean(x[src(r), :]²) + EPS)
//
// ACCUMULATE adds the normalized row into y instead of writing it (Gemma's post-attention and post-FFN
// norms feed the residual stream this way: x += norm(out)·g).
//
// src(r) = r for the layers; for the final norm before the output head (GATHER_LOGIT_ROWS) it is the
// r-th logit row of the step, so only the rows whose logits are wanted are normalized and projected.

@group(0) @binding(0) var<uniform> step: Step;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> g: array<f32>;
@group(0) @binding(3) var<storage, read> logit_rows: array<u32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;

var<workgroup> partial_sums: array<f32, WORKGROUP_SIZE>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lane: u32) {
  let r = wid.x;
  let n = select(step.num_tokens, step.num_logit_rows, GATHER_LOGIT_ROWS);
  if (r >= n) {
    return; // uniform across the workgroup
  }
  let src = select(r, logit_rows[r], GATHER_LOGIT_ROWS);
  var sum = 0.0;
  for (var c = lane; c < DIM; c += WORKGROUP_SIZE) {
    let v = x[src * DIM + c];
    sum += v * v;
  }
  partial_sums[lane] = sum;
  workgroupBarrier();
  for (var width = WORKGROUP_SIZE / 2u; width > 0u; width /= 2u) {
    if (lane < width) {
      partial_sums[lane] += partial_sums[lane + width];
    }
    workgroupBarrier();
  }
  let scale = 1.0 / sqrt(partial_sums[0] / f32(DIM) + EPS);
  for (var c = lane; c < DIM; c += WORKGROUP_SIZE) {
    let normed = x[src * DIM + c] * scale * g[c];
    if (ACCUMULATE) {
      y[r * DIM + c] += normed;
    } else {
      y[r * DIM + c] = normed;
    }
  }
}
