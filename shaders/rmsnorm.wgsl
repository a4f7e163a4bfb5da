// RMSNorm:   y[r, :] (+)= x[src(r), :] · g / sqrt(mean(x[src(r), :]²) + EPS)
//
// Two entry points, the same sums in the same order (so the same bits): `main`, a workgroup of LANES lanes per row
// (lane l sums x² over the columns c ≡ l mod LANES, then a tree in workgroup memory: GPUs); and `main_per_row`, one
// invocation per row doing the LANES partials in turn and the same tree in registers — no workgroup memory and no
// barrier, which SwiftShader runs as fibres (a 64-wide norm cost ≈ 110 µs a dispatch with barriers there).
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

var<workgroup> partial_sums: array<f32, LANES>;

/// Σ x[src, c]² over the columns c ≡ lane (mod LANES).
fn lane_partial(src: u32, lane: u32) -> f32 {
  var sum = 0.0;
  for (var c = lane; c < DIM; c += LANES) {
    let v = x[src * DIM + c];
    sum += v * v;
  }
  return sum;
}

/// 1 / sqrt(mean(x[src, :]²) + EPS) from the row's sum of squares.
fn inverse_rms(sum_of_squares: f32) -> f32 {
  return 1.0 / sqrt(sum_of_squares / f32(DIM) + EPS);
}

@compute @workgroup_size(LANES)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lane: u32) {
  let r = wid.x;
  let n = select(step.num_tokens, step.num_logit_rows, GATHER_LOGIT_ROWS);
  if (r >= n) {
    return; // uniform across the workgroup
  }
  let src = select(r, logit_rows[r], GATHER_LOGIT_ROWS);
  partial_sums[lane] = lane_partial(src, lane);
  workgroupBarrier();
  for (var width = LANES / 2u; width > 0u; width /= 2u) {
    if (lane < width) {
      partial_sums[lane] += partial_sums[lane + width];
    }
    workgroupBarrier();
  }
  let scale = inverse_rms(partial_sums[0]);
  for (var c = lane; c < DIM; c += LANES) {
    store_normed(r, c, x[src * DIM + c] * scale * g[c]);
  }
}

fn store_normed(r: u32, c: u32, normed: f32) {
  if (ACCUMULATE) {
    y[r * DIM + c] += normed;
  } else {
    y[r * DIM + c] = normed;
  }
}

@compute @workgroup_size(ROWS_PER_WORKGROUP)
fn main_per_row(@builtin(global_invocation_id) gid: vec3<u32>) {
  let r = gid.x;
  let n = select(step.num_tokens, step.num_logit_rows, GATHER_LOGIT_ROWS);
  if (r >= n) {
    return;
  }
  let src = select(r, logit_rows[r], GATHER_LOGIT_ROWS);
  var partials: array<f32, LANES>;
  for (var lane = 0u; lane < LANES; lane++) {
    partials[lane] = lane_partial(src, lane);
  }
  for (var width = LANES / 2u; width > 0u; width /= 2u) {
    for (var lane = 0u; lane < width; lane++) {
      partials[lane] += partials[lane + width];
    }
  }
  let scale = inverse_rms(partials[0]);
  for (var c = 0u; c < DIM; c++) {
    store_normed(r, c, x[src * DIM + c] * scale * g[c]);
  }
}
