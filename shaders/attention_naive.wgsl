// Naive attention, kept as the baseline: it materializes the whole score matrix (O(N²) scratch), then a
// softmax per row, then P·V. Three entry points, dispatched in order (include kv_cache.wgsl and kv_read.wgsl first).
//
//   scores[t, h, j] = q[t, h, :] · K[j, kvh(h), :] / sqrt(HEAD_DIM)   for visible j, −∞ otherwise
//   probs[t, h, :]  = softmax(scores[t, h, :])                          (in place)
//   out[t, h, :]    = Σ_j probs[t, h, j] · V[j, kvh(h), :]
// Visible: j ≤ position(t) (causal), and j > position(t) − WINDOW when WINDOW > 0 (sliding window).
// kvh(h) = h / (Q_HEADS / KV_HEADS): grouped-query attention.   scores: [num_tokens, Q_HEADS, max_context]

@group(0) @binding(0) var<uniform> step: Step;
@group(0) @binding(1) var<storage, read> tokens: array<TokenInfo>;
@group(0) @binding(2) var<storage, read> seqs: array<SeqInfo>;
@group(0) @binding(3) var<storage, read> block_tables: array<u32>;
@group(0) @binding(4) var<storage, read> kv_pool: array<u32>;
@group(0) @binding(5) var<storage, read> q: array<vec4<f32>>;
@group(0) @binding(6) var<storage, read_write> scores: array<f32>;
@group(0) @binding(7) var<storage, read_write> out: array<vec4<f32>>;
@group(0) @binding(8) var<storage, read> kv_new: array<vec4<f32>>; // this step's k rows, then v rows (kv_read.wgsl)


@compute @workgroup_size(WORKGROUP_SIZE)
fn scores_main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let j = gid.x;
  let h = gid.y;
  let t = gid.z;
  if (j >= step.max_context || t >= step.num_tokens) {
    return;
  }
  let token = tokens[t];
  let row = (t * Q_HEADS + h) * step.max_context;
  if (j > token.position || j < first_visible(token.position)) {
    scores[row + j] = NEG_INF;
    return;
  }
  let seq = seqs[token.seq];
  let block = kv_block_of(seq.block_table_offset, j);
  var dot_qk = 0.0;
  for (var d4 = 0u; d4 < HEAD_VEC4; d4++) {
    dot_qk += dot(q[(t * Q_HEADS + h) * HEAD_VEC4 + d4], kv_key4(seq, j, block, h / GROUP, d4));
  }
  scores[row + j] = cap_score(dot_qk * SCALE);
}

var<workgroup> reduce_scratch: array<f32, WORKGROUP_SIZE>;

fn workgroup_reduce(lane: u32, value: f32, is_max: bool) -> f32 {
  reduce_scratch[lane] = value;
  workgroupBarrier();
  for (var width = WORKGROUP_SIZE / 2u; width > 0u; width /= 2u) {
    if (lane < width) {
      let other = reduce_scratch[lane + width];
      reduce_scratch[lane] = select(reduce_scratch[lane] + other, max(reduce_scratch[lane], other), is_max);
    }
    workgroupBarrier();
  }
  let result = reduce_scratch[0];
  workgroupBarrier();
  return result;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn softmax_main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lane: u32) {
  let h = wid.x;
  let t = wid.y;
  if (t >= step.num_tokens) {
    return;
  }
  let row = (t * Q_HEADS + h) * step.max_context;
  var row_max = NEG_INF;
  for (var j = lane; j < step.max_context; j += WORKGROUP_SIZE) {
    row_max = max(row_max, scores[row + j]);
  }
  row_max = workgroup_reduce(lane, row_max, true);
  var row_sum = 0.0;
  for (var j = lane; j < step.max_context; j += WORKGROUP_SIZE) {
    let s = scores[row + j];
    let p = select(exp(s - row_max), 0.0, s <= NEG_INF);
    scores[row + j] = p;
    row_sum += p;
  }
  row_sum = workgroup_reduce(lane, row_sum, false);
  for (var j = lane; j < step.max_context; j += WORKGROUP_SIZE) {
    scores[row + j] = scores[row + j] / row_sum;
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn pv_main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let d4 = gid.x % HEAD_VEC4;
  let h = gid.x / HEAD_VEC4;
  let t = gid.y;
  if (h >= Q_HEADS || t >= step.num_tokens) {
    return;
  }
  let token = tokens[t];
  let seq = seqs[token.seq];
  let row = (t * Q_HEADS + h) * step.max_context;
  var acc = vec4<f32>(0.0);
  for (var j = first_visible(token.position); j <= token.position; j++) {
    acc += scores[row + j] * kv_value4(seq, j, kv_block_of(seq.block_table_offset, j), h / GROUP, d4);
  }
  out[(t * Q_HEADS + h) * HEAD_VEC4 + d4] = acc;
}
