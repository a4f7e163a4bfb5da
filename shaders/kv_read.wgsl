// What the attention kernels share (a library: include after kv_cache.wgsl): reading keys and values, the
// visible range of a query, and the GQA grouping. The attention kernels bind `kv_new`: this step's own k rows,
// then its v rows from V_NEW_OFFSET (vec4 units), in full precision.
//
// Position j of a sequence is read from
//   this step's rows  if j is one of the step's new tokens (a prompt chunk attends to itself exactly,
//                     whatever the cache format — as vLLM does with a quantized cache);
//   the tail          if its block is quantized and not yet full (kv_cache.wgsl);
//   its block         otherwise, decoded from the cache format.

const HEAD_VEC4: u32 = HEAD_DIM / 4u;
const GROUP: u32 = Q_HEADS / KV_HEADS;
const NEG_INF: f32 = -3.0e38;

/// A scaled score after soft-capping (Gemma 2: SOFTCAP · tanh(score / SOFTCAP)); unchanged when SOFTCAP is 0.
/// tanh's argument is clamped so no implementation overflows inside it (tanh(±15) is ±1 in f32).
fn cap_score(score: f32) -> f32 {
  if (SOFTCAP > 0.0) {
    return SOFTCAP * tanh(clamp(score / SOFTCAP, -15.0, 15.0));
  }
  return score;
}

/// Visible keys of the query at `position`: [first_visible(position), position] (causal, sliding window).
fn first_visible(position: u32) -> u32 {
  if (WINDOW > 0u && position + 1u > WINDOW) {
    return position + 1u - WINDOW;
  }
  return 0u;
}

/// Row of this step's k/v rows (kv_new) holding position j of `seq` (one of its new tokens).
fn kv_new_row(seq: SeqInfo, j: u32) -> u32 {
  return seq.first_token + j - (seq.context_len - seq.num_tokens);
}

/// Positions of `seq` below this are in sealed blocks; a quantized section keeps the rest in the tail.
fn kv_sealed_end(seq: SeqInfo) -> u32 {
  return (seq.context_len / BLOCK_SIZE) * BLOCK_SIZE;
}

/// 4 dims of the key of KV head `head` at position j of `seq`, whose block the caller looked up. (Keys and
/// values have a reader each, not one with an is_value flag: see kv_section.wgsl on runtime branches.)
fn kv_key4(seq: SeqInfo, j: u32, block: u32, head: u32, d4: u32) -> vec4<f32> {
  if (j >= seq.context_len - seq.num_tokens) {
    return kv_new[(kv_new_row(seq, j) * KV_HEADS + head) * HEAD_VEC4 + d4];
  }
  if (K_QUANTIZED) {
    if (j >= kv_sealed_end(seq)) {
      return kv_k_tail4(seq.tail, head, j % BLOCK_SIZE, d4);
    }
  }
  return kv_k_load4(block, head, j % BLOCK_SIZE, d4);
}

/// 4 dims of the value of KV head `head` at position j of `seq`, as kv_key4.
fn kv_value4(seq: SeqInfo, j: u32, block: u32, head: u32, d4: u32) -> vec4<f32> {
  if (j >= seq.context_len - seq.num_tokens) {
    return kv_new[V_NEW_OFFSET + (kv_new_row(seq, j) * KV_HEADS + head) * HEAD_VEC4 + d4];
  }
  if (V_QUANTIZED) {
    if (j >= kv_sealed_end(seq)) {
      return kv_v_tail4(seq.tail, head, j % BLOCK_SIZE, d4);
    }
  }
  return kv_v_load4(block, head, j % BLOCK_SIZE, d4);
}
