// Split-K decode, grouped: an alternative to decode_main (attention_flash.wgsl) for adapters that run
// invocations as the SIMD lanes of CPU threads (SwiftShader); tuning.decodeAttention picks it, and merge_main
// combines its partial states exactly as decode_main's (same chunks, same partials layout).
//
// One invocation runs one chunk of a sequence's keys for all GROUP query heads of one KV head, so each key and
// value is read once for the group (decode_main reads it once per query head). Keys in order: sealed blocks,
// then (quantized sections) the tail, then this step's new key.
//
// A head's dims live in struct fields, not in arrays: SwiftShader keeps an array indexed in a loop in memory,
// where every access is a per-lane gather, and branches on runtime values run both of their sides. So the
// wrapper writes this file out (src/kernels/wgsl.ts unrollLines): a line holding {d} once for each vec4 of a
// head (d = 0 … HEAD_VEC4 − 1), a line holding {g} once for each head of the group (g = 0 … GROUP − 1).

/// One head's row: a query, or an output accumulator. [HEAD_DIM] as HEAD_VEC4 vec4 fields.
struct HeadRow {
  x{d}: vec4<f32>,
}

/// One position's key and value for one KV head.
struct KeyValue {
  k{d}: vec4<f32>,
  v{d}: vec4<f32>,
}

/// The online softmax of one query head over the keys seen so far: running max m, running sum l, acc = Σ e^(s−m)·v.
struct Softmax {
  m: f32,
  l: f32,
  acc: HeadRow,
}

fn scaled_query(t: u32, head: u32) -> HeadRow {
  let row = (t * Q_HEADS + head) * HEAD_VEC4;
  var query: HeadRow;
  query.x{d} = q[row + {d}u] * SCALE;
  return query;
}

fn attend(state: Softmax, query: HeadRow, kv: KeyValue) -> Softmax {
  var score = 0.0;
  score += dot(query.x{d}, kv.k{d});
  score = cap_score(score);
  let m_new = max(state.m, score);
  let correction = exp(state.m - m_new);
  let p = exp(score - m_new);
  var next: Softmax;
  next.m = m_new;
  next.l = state.l * correction + p;
  next.acc.x{d} = state.acc.x{d} * correction + p * kv.v{d};
  return next;
}

/// A cached position in a sealed block (for unquantized sections: any cached position).
fn sealed_kv(block: u32, kv_head: u32, slot: u32) -> KeyValue {
  var kv: KeyValue;
  kv.k{d} = kv_k_load4(block, kv_head, slot, {d}u);
  kv.v{d} = kv_v_load4(block, kv_head, slot, {d}u);
  return kv;
}

/// A cached position past the last sealed block: a quantized section holds it in the sequence's tail.
fn recent_kv(tail: u32, block: u32, kv_head: u32, slot: u32) -> KeyValue {
  var kv: KeyValue;
  if (K_QUANTIZED) { kv.k{d} = kv_k_tail4(tail, kv_head, slot, {d}u); } else { kv.k{d} = kv_k_load4(block, kv_head, slot, {d}u); }
  if (V_QUANTIZED) { kv.v{d} = kv_v_tail4(tail, kv_head, slot, {d}u); } else { kv.v{d} = kv_v_load4(block, kv_head, slot, {d}u); }
  return kv;
}

/// This step's own key and value (token t), in full precision.
fn new_kv(t: u32, kv_head: u32) -> KeyValue {
  let row = (t * KV_HEADS + kv_head) * HEAD_VEC4;
  var kv: KeyValue;
  kv.k{d} = kv_new[row + {d}u];
  kv.v{d} = kv_new[V_NEW_OFFSET + row + {d}u];
  return kv;
}

fn write_partial(at: u32, state: Softmax) {
  partials[at] = state.m; // NEG_INF and l = 0 for an empty chunk: the merge skips it
  partials[at + 1u] = state.l;
  partials[at + 2u + {d}u * 4u] = state.acc.x{d}.x;
  partials[at + 3u + {d}u * 4u] = state.acc.x{d}.y;
  partials[at + 4u + {d}u * 4u] = state.acc.x{d}.z;
  partials[at + 5u + {d}u * 4u] = state.acc.x{d}.w;
}

// Invocations: (chunk, KV head, sequence); DECODE_LANES chunks a workgroup.
@compute @workgroup_size(DECODE_LANES)
fn decode_grouped_main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let chunk = gid.x;
  let kv_head = gid.y;
  let seq_index = gid.z;
  if (seq_index >= step.num_seqs) {
    return;
  }
  let seq = seqs[seq_index];
  let chunks = decode_chunks(seq.context_len);
  if (seq.num_tokens != 1u || chunk >= chunks) {
    return;
  }
  let chunk_len = (seq.context_len + chunks - 1u) / chunks;
  let t = seq.first_token;
  let position = seq.context_len - 1u;
  let begin = max(chunk * chunk_len, first_visible(position));
  let end = min((chunk + 1u) * chunk_len, position + 1u);
  let head0 = kv_head * GROUP;

  let query_{g} = scaled_query(t, head0 + {g}u);
  var state_{g} = Softmax(NEG_INF, 0.0, HeadRow());

  let cached_end = min(end, position);
  var sealed_end = cached_end;
  if (K_QUANTIZED || V_QUANTIZED) {
    sealed_end = min(cached_end, kv_sealed_end(seq));
  }
  for (var j = begin; j < sealed_end; j++) {
    let kv = sealed_kv(kv_block_of(seq.block_table_offset, j), kv_head, j % BLOCK_SIZE);
    state_{g} = attend(state_{g}, query_{g}, kv);
  }
  if (K_QUANTIZED || V_QUANTIZED) {
    for (var j = max(begin, sealed_end); j < cached_end; j++) {
      let kv = recent_kv(seq.tail, kv_block_of(seq.block_table_offset, j), kv_head, j % BLOCK_SIZE);
      state_{g} = attend(state_{g}, query_{g}, kv);
    }
  }
  if (end == position + 1u) {
    let kv = new_kv(t, kv_head);
    state_{g} = attend(state_{g}, query_{g}, kv);
  }
  write_partial(partial_index(seq_index, head0 + {g}u, chunk), state_{g});
}
