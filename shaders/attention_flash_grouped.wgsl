// Grouped attention for adapters that run invocations as the SIMD lanes of CPU threads (SwiftShader): an
// alternative to attention_flash.wgsl's decode_main (tuning.decodeAttention) and prefill_main
// (tuning.prefillAttention), over the same cache, with the same results up to rounding.
//
// An invocation serves HEADS_PER_INVOCATION query heads of one KV head (all GROUP of them, or a divisor of GROUP
// for large heads, so that its rows fit in registers), so each key and value is read once for them (the tiled
// kernels read it once per query head, or stage it in workgroup memory behind barriers, which SwiftShader runs
// as fibres). Invocation y index: a run of HEADS_PER_INVOCATION heads, heads y·HEADS_PER_INVOCATION + g. Keys in order: sealed blocks, then (quantized sections) the tail, then this
// step's new keys (kv_new, full precision).
//   decode_grouped_main   one invocation per (chunk, run of heads, sequence) of a one-token sequence; writes the
//                         chunk's partial states, which merge_main combines (same chunks and layout as decode_main)
//   prefill_grouped_main  one invocation per (token, run of heads) of a sequence with several new tokens; walks
//                         every key its token sees and writes the output rows
//
// A head's dims live in struct fields, not in arrays: SwiftShader keeps an array indexed in a loop in memory,
// where every access is a per-lane gather, and branches on runtime values run both of their sides. So the
// wrapper writes this file out (src/kernels/wgsl.ts unrollLines): a line holding {d} once for each vec4 of a
// head (d = 0 … HEAD_VEC4 − 1), a line holding {g} once for each head of the run (g = 0 … HEADS_PER_INVOCATION − 1).

/// One head's row: a query, or an output accumulator. [HEAD_DIM] as HEAD_VEC4 vec4 fields.
struct HeadRow {
  x{d}: vec4<f32>,
}

/// The run's scaled query rows.
struct GroupQuery {
  q{g}: HeadRow,
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

struct GroupSoftmax {
  s{g}: Softmax,
}

fn group_query(t: u32, head0: u32) -> GroupQuery {
  var query: GroupQuery;
  query.q{g}.x{d} = q[(t * Q_HEADS + head0 + {g}u) * HEAD_VEC4 + {d}u] * SCALE;
  return query;
}

fn empty_group() -> GroupSoftmax {
  var state: GroupSoftmax;
  state.s{g} = Softmax(NEG_INF, 0.0, HeadRow());
  return state;
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

fn attend_group(state: GroupSoftmax, query: GroupQuery, kv: KeyValue) -> GroupSoftmax {
  var next: GroupSoftmax;
  next.s{g} = attend(state.s{g}, query.q{g}, kv);
  return next;
}

/// What a channel-grouped section's keys or values share within a block: the scales and (int4) zeros of one KV
/// head's channels, read once a block rather than at every key (unused for other formats).
struct ChannelParams {
  k_scale{d}: vec4<f32>,
  k_zero{d}: vec4<f32>,
  v_scale{d}: vec4<f32>,
  v_zero{d}: vec4<f32>,
}

fn channel_params(block: u32, kv_head: u32) -> ChannelParams {
  var params: ChannelParams;
  if (K_QUANTIZED && !K_TOKEN_GROUPS) { params.k_scale{d} = kv_k_channel_scale4(block, kv_head, {d}u); params.k_zero{d} = kv_k_channel_zero4(block, kv_head, {d}u); }
  if (V_QUANTIZED && !V_TOKEN_GROUPS) { params.v_scale{d} = kv_v_channel_scale4(block, kv_head, {d}u); params.v_zero{d} = kv_v_channel_zero4(block, kv_head, {d}u); }
  return params;
}

/// A cached position in a sealed block (for unquantized sections: any cached position). A token group's scale is
/// read once for the dims it covers: a new group starts where 4·d is a multiple of the group size (groups are
/// whole heads joined, or divide a head: src/kv/formats.ts tokenGroupSize).
fn sealed_kv(block: u32, kv_head: u32, slot: u32, params: ChannelParams) -> KeyValue {
  var kv: KeyValue;
  var k_token = vec2<f32>(0.0);
  var v_token = vec2<f32>(0.0);
  if (K_QUANTIZED && K_TOKEN_GROUPS && ({d}u * 4u) % K_GROUP == 0u) { k_token = kv_k_token_params(block, kv_head, slot, {d}u); } kv.k{d} = kv_k_read4(block, kv_head, slot, {d}u, params.k_scale{d}, params.k_zero{d}, k_token);
  if (V_QUANTIZED && V_TOKEN_GROUPS && ({d}u * 4u) % V_GROUP == 0u) { v_token = kv_v_token_params(block, kv_head, slot, {d}u); } kv.v{d} = kv_v_read4(block, kv_head, slot, {d}u, params.v_scale{d}, params.v_zero{d}, v_token);
  return kv;
}

/// A cached position past the last sealed block: a quantized section holds it in the sequence's tail.
fn recent_kv(tail: u32, block: u32, kv_head: u32, slot: u32) -> KeyValue {
  var kv: KeyValue;
  if (K_QUANTIZED) { kv.k{d} = kv_k_tail4(tail, kv_head, slot, {d}u); } else { kv.k{d} = kv_k_load4(block, kv_head, slot, {d}u); }
  if (V_QUANTIZED) { kv.v{d} = kv_v_tail4(tail, kv_head, slot, {d}u); } else { kv.v{d} = kv_v_load4(block, kv_head, slot, {d}u); }
  return kv;
}

/// This step's own key and value of batch token t, in full precision.
fn new_kv(t: u32, kv_head: u32) -> KeyValue {
  let row = (t * KV_HEADS + kv_head) * HEAD_VEC4;
  var kv: KeyValue;
  kv.k{d} = kv_new[row + {d}u];
  kv.v{d} = kv_new[V_NEW_OFFSET + row + {d}u];
  return kv;
}

/// The group's softmax states after keys [begin, end) of `seq` (KV head kv_head), in order.
fn attend_keys(seq: SeqInfo, kv_head: u32, begin: u32, end: u32, query: GroupQuery, start: GroupSoftmax) -> GroupSoftmax {
  var state = start;
  let first_new = seq.context_len - seq.num_tokens;
  let cached_end = min(end, first_new);
  var sealed_end = cached_end;
  if (K_QUANTIZED || V_QUANTIZED) {
    sealed_end = min(cached_end, kv_sealed_end(seq));
  }
  // sealed keys a block at a time: its table entry and channel parameters read once
  var j = begin;
  while (j < sealed_end) {
    let block = kv_block_of(seq.block_table_offset, j);
    let params = channel_params(block, kv_head);
    let block_start = (j / BLOCK_SIZE) * BLOCK_SIZE;
    let block_end = min(sealed_end, block_start + BLOCK_SIZE);
    for (; j < block_end; j++) {
      state = attend_group(state, query, sealed_kv(block, kv_head, j - block_start, params));
    }
  }
  if (K_QUANTIZED || V_QUANTIZED) {
    for (var j = max(begin, sealed_end); j < cached_end; j++) {
      state = attend_group(state, query, recent_kv(seq.tail, kv_block_of(seq.block_table_offset, j), kv_head, j % BLOCK_SIZE));
    }
  }
  for (var j = max(begin, first_new); j < end; j++) {
    state = attend_group(state, query, new_kv(kv_new_row(seq, j), kv_head));
  }
  return state;
}

fn write_partial(at: u32, state: Softmax) {
  partials[at] = state.m; // NEG_INF and l = 0 for an empty chunk: the merge skips it
  partials[at + 1u] = state.l;
  partials[at + 2u + {d}u * 4u] = state.acc.x{d}.x;
  partials[at + 3u + {d}u * 4u] = state.acc.x{d}.y;
  partials[at + 4u + {d}u * 4u] = state.acc.x{d}.z;
  partials[at + 5u + {d}u * 4u] = state.acc.x{d}.w;
}

// Invocations: (chunk, run of heads, sequence); GROUPED_LANES chunks a workgroup.
@compute @workgroup_size(GROUPED_LANES)
fn decode_grouped_main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let chunk = gid.x;
  let head0 = gid.y * HEADS_PER_INVOCATION;
  let kv_head = head0 / GROUP;
  let seq_index = gid.z;
  if (seq_index >= step.num_seqs) {
    return;
  }
  let seq = seqs[seq_index];
  let chunks = decode_chunks(seq.context_len);
  if (seq.num_tokens != 1u || chunk >= chunks) {
    return;
  }
  let keys = decode_chunk_keys(seq, chunk, chunks);
  let state = attend_keys(seq, kv_head, keys.x, keys.y, group_query(seq.first_token, head0), empty_group());
  write_partial(partial_index(seq_index, head0 + {g}u, chunk), state.s{g});
}

// Invocations: (token of the step, run of heads); GROUPED_LANES tokens a workgroup. Tokens of one-token
// sequences are decode's.
@compute @workgroup_size(GROUPED_LANES)
fn prefill_grouped_main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let t = gid.x;
  let head0 = gid.y * HEADS_PER_INVOCATION;
  let kv_head = head0 / GROUP;
  if (t >= step.num_tokens) {
    return;
  }
  let token = tokens[t];
  let seq = seqs[token.seq];
  if (seq.num_tokens == 1u) {
    return;
  }
  let state = attend_keys(seq, kv_head, first_visible(token.position), token.position + 1u, group_query(t, head0), empty_group());
  out[(t * Q_HEADS + head0 + {g}u) * HEAD_VEC4 + {d}u] = state.s{g}.acc.x{d} / state.s{g}.l;
}
