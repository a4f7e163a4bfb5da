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

/// 4 values of one head's key or value at position j of `seq`, whose block the caller looked up.
fn kv_load4(seq: SeqInfo, j: u32, block: u32, is_value: bool, head: u32, d4: u32) -> vec4<f32> {
  let first_new = seq.context_len - seq.num_tokens;
  if (j >= first_new) {
    let t = seq.first_token + j - first_new;
    return kv_new[select(0u, V_NEW_OFFSET, is_value) + (t * KV_HEADS + head) * (HEAD_DIM / 4u) + d4];
  }
  let slot = j % BLOCK_SIZE;
  let quantized = select(K_QUANTIZED, V_QUANTIZED, is_value);
  if (quantized && j >= (seq.context_len / BLOCK_SIZE) * BLOCK_SIZE) {
    let at = kv_tail_index(seq.tail, is_value, head, slot) + d4 * 4u;
    return bitcast<vec4<f32>>(vec4<u32>(kv_pool[at], kv_pool[at + 1u], kv_pool[at + 2u], kv_pool[at + 3u]));
  }
  let base = block * KV_BLOCK_WORDS;
  if (is_value) {
    return kv_section_load4(base + K_WORDS, V_TYPE, V_TOKEN_GROUPS, V_GROUP, V_SCALE_OFFSET, V_ZERO_OFFSET, head, slot, d4);
  }
  return kv_section_load4(base, K_TYPE, K_TOKEN_GROUPS, K_GROUP, K_SCALE_OFFSET, K_ZERO_OFFSET, head, slot, d4);
}
