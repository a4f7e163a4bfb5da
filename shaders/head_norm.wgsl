// Per-head RMSNorm of q and k, in place, one workgroup per (token, head) row (Qwen3, Gemma 3):
//   v[t, h, :] = v[t, h, :] · g / sqrt(mean(v[t, h, :]²) + EPS)     g: [HEAD_DIM], one for q and one for k
//
//   q: [num_tokens, Q_HEADS·HEAD_DIM]   k: [num_tokens, KV_HEADS·HEAD_DIM]    workgroup (head, token)

@group(0) @binding(0) var<uniform> step: Step;
@group(0) @binding(1) var<storage, read_write> q: array<f32>;
@group(0) @binding(2) var<storage, read_write> k: array<f32>;
@group(0) @binding(3) var<storage, read> q_norm: array<f32>;
@group(0) @binding(4) var<storage, read> k_norm: array<f32>;

var<workgroup> partial_sums: array<f32, WORKGROUP_SIZE>;

fn row_scale(lane: u32) -> f32 {
  workgroupBarrier();
  for (var width = WORKGROUP_SIZE / 2u; width > 0u; width /= 2u) {
    if (lane < width) {
      partial_sums[lane] += partial_sums[lane + width];
    }
    workgroupBarrier();
  }
  return 1.0 / sqrt(partial_sums[0] / f32(HEAD_DIM) + EPS);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lane: u32) {
  let head = wid.x; // q heads first, then k heads
  let t = wid.y;
  if (t >= step.num_tokens) {
    return; // uniform across the workgroup
  }
  var sum = 0.0;
  if (head < Q_HEADS) {
    let base = (t * Q_HEADS + head) * HEAD_DIM;
    for (var c = lane; c < HEAD_DIM; c += WORKGROUP_SIZE) {
      sum += q[base + c] * q[base + c];
    }
    partial_sums[lane] = sum;
    let scale = row_scale(lane);
    for (var c = lane; c < HEAD_DIM; c += WORKGROUP_SIZE) {
      q[base + c] = q[base + c] * scale * q_norm[c];
    }
  } else {
    let base = (t * KV_HEADS + head - Q_HEADS) * HEAD_DIM;
    for (var c = lane; c < HEAD_DIM; c += WORKGROUP_SIZE) {
      sum += k[base + c] * k[base + c];
    }
    partial_sums[lane] = sum;
    let scale = row_scale(lane);
    for (var c = lane; c < HEAD_DIM; c += WORKGROUP_SIZE) {
      k[base + c] = k[base + c] * scale * k_norm[c];
    }
  }
}
