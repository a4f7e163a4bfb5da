// Greedy sampling on the GPU: the index of the largest logit of each logit row, the first one on ties
// (what src/engine/sampler.ts argmax returns), so a greedy decode step reads back 4 bytes per row.
//
//   ids[r] = argmax_i logits[r, i]          logits: [num_logit_rows, VOCAB]   ids: [num_logit_rows] u32
//
// One workgroup per row: lane l scans i = l, l + WORKGROUP_SIZE, … keeping its first largest value, then a
// tree reduction keeps the larger value, or the smaller index of two equal ones. With WORKGROUP_SIZE 1 (CPU
// adapters) the one invocation's scan is the answer. A row holding NaN or ±Inf gets the id 0xFFFFFFFF
// (NON_FINITE_ROW in src/model/forward.ts), so garbage is never sampled.

@group(0) @binding(0) var<uniform> step: Step;
@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read_write> ids: array<u32>;

var<workgroup> best_value: array<f32, WORKGROUP_SIZE>;
var<workgroup> best_index: array<u32, WORKGROUP_SIZE>;
var<workgroup> any_non_finite: array<u32, WORKGROUP_SIZE>;

/// NaN or ±Inf, from the bits (a compiler may fold v != v away).
fn non_finite(v: f32) -> bool {
  return (bitcast<u32>(v) & 0x7f800000u) == 0x7f800000u;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lane: u32) {
  let r = wid.x;
  if (r >= step.num_logit_rows) {
    return; // uniform across the workgroup
  }
  var value = logits[r * VOCAB + min(lane, VOCAB - 1u)];
  var index = min(lane, VOCAB - 1u);
  var bad = non_finite(value);
  for (var i = lane + WORKGROUP_SIZE; i < VOCAB; i += WORKGROUP_SIZE) {
    let v = logits[r * VOCAB + i];
    bad = bad || non_finite(v);
    if (v > value) {
      value = v;
      index = i;
    }
  }
  if (WORKGROUP_SIZE == 1u) {
    ids[r] = select(index, 0xffffffffu, bad); // one invocation scanned the whole row: no barrier (SwiftShader pays dearly for them)
    return;
  }
  best_value[lane] = value;
  best_index[lane] = index;
  any_non_finite[lane] = u32(bad);
  workgroupBarrier();
  for (var width = WORKGROUP_SIZE / 2u; width > 0u; width /= 2u) {
    if (lane < width) {
      let v = best_value[lane + width];
      let i = best_index[lane + width];
      any_non_finite[lane] = max(any_non_finite[lane], any_non_finite[lane + width]);
      if (v > best_value[lane] || (v == best_value[lane] && i < best_index[lane])) {
        best_value[lane] = v;
        best_index[lane] = i;
      }
    }
    workgroupBarrier();
  }
  if (lane == 0u) {
    ids[r] = select(best_index[0], 0xffffffffu, any_non_finite[0] != 0u);
  }
}
