// One section of a KV block — the keys or the values — read 4 dims at a time (a library: include after
// kv_cache.wgsl). A template over S: the wrappers include it twice (src/kernels/kv-shape.ts kvReadLibrary), once
// with S_ / kv_s_ written K_ / kv_k_ and once V_ / kv_v_, so every format branch below tests a compile-time
// constant. On SwiftShader that matters: a branch on a runtime value runs both of its sides (under a lane
// mask), so one generic reader would pay for all four formats at every key.
//
// A quantized value is (q − zero)·scale, with scale and zero (int4 only) shared by its group: kv_s_load4 reads them
// for every 4 dims; a kernel walking many keys can read them once per group instead — a channel group's once a
// block (kv_s_channel_scale4, kv_s_channel_zero4), a token group's once per key and group (kv_s_token_params) —
// and pass them to kv_s_read4 (shaders/attention_flash_grouped.wgsl).

/// Scales of dims 4·d4 … 4·d4+3 of `head` in block `block`, a channel-grouped section's (one per channel a block).
fn kv_s_channel_scale4(block: u32, head: u32, d4: u32) -> vec4<f32> {
  return kv_scales4(kv_pool[block * KV_BLOCK_WORDS + S_OFFSET + S_SCALE_OFFSET + (head * HEAD_DIM + d4 * 4u) / 4u]);
}

/// Their zeros (signed bytes): int4's; 0 for int8.
fn kv_s_channel_zero4(block: u32, head: u32, d4: u32) -> vec4<f32> {
  if (S_TYPE == KV_INT4) {
    return int8x4(kv_pool[block * KV_BLOCK_WORDS + S_OFFSET + S_ZERO_OFFSET + (head * HEAD_DIM + d4 * 4u) / 4u]);
  }
  return vec4<f32>(0.0);
}

/// (scale, zero) of the token group holding dims 4·d4 … of (head, slot), a token-grouped section's.
fn kv_s_token_params(block: u32, head: u32, slot: u32, d4: u32) -> vec2<f32> {
  let base = block * KV_BLOCK_WORDS + S_OFFSET;
  let group_byte = ((head * HEAD_DIM + d4 * 4u) / S_GROUP) * BLOCK_SIZE + slot;
  var zero = 0.0;
  if (S_TYPE == KV_INT4) {
    zero = f32((i32(kv_byte_at(group_byte, base + S_ZERO_OFFSET)) << 24u) >> 24u);
  }
  return vec2<f32>(kv_scale(kv_byte_at(group_byte, base + S_SCALE_OFFSET)), zero);
}

/// Dims 4·d4 … 4·d4+3 of (head, slot) in block `block`, given the quantization parameters of their groups: the
/// block's channel scales and zeros of these dims (channel groups) or their token group's (scale, zero) (token
/// groups). Full-precision sections ignore both.
fn kv_s_read4(block: u32, head: u32, slot: u32, d4: u32, channel_scale: vec4<f32>, channel_zero: vec4<f32>, token: vec2<f32>) -> vec4<f32> {
  let base = block * KV_BLOCK_WORDS + S_OFFSET;
  let value = (head * BLOCK_SIZE + slot) * HEAD_DIM + d4 * 4u;
  if (S_TYPE == KV_F32) {
    return kv_f32x4(base + value);
  }
  if (S_TYPE == KV_F16) {
    let at = base + value / 2u;
    return vec4<f32>(unpack2x16float(kv_pool[at]), unpack2x16float(kv_pool[at + 1u]));
  }
  var scale = channel_scale;
  var zero = channel_zero;
  if (S_TOKEN_GROUPS) {
    scale = vec4<f32>(token.x);
    zero = vec4<f32>(token.y);
  }
  if (S_TYPE == KV_INT8) {
    return int8x4(kv_pool[base + value / 4u]) * scale;
  }
  // int4: value % 8 is 0 or 4 (HEAD_DIM is a multiple of 4): nibbles 0–3 or 4–7 of the word
  let word = kv_pool[base + value / 8u];
  return (kv_nibbles4(select(word, word >> 16u, value % 8u == 4u)) - zero) * scale;
}

/// Dims 4·d4 … 4·d4+3 of (head, slot) in block `block`, decoded from the section's format.
fn kv_s_load4(block: u32, head: u32, slot: u32, d4: u32) -> vec4<f32> {
  var channel_scale = vec4<f32>(0.0);
  var channel_zero = vec4<f32>(0.0);
  var token = vec2<f32>(0.0);
  if (S_QUANTIZED) {
    if (S_TOKEN_GROUPS) {
      token = kv_s_token_params(block, head, slot, d4);
    } else {
      channel_scale = kv_s_channel_scale4(block, head, d4);
      channel_zero = kv_s_channel_zero4(block, head, d4);
    }
  }
  return kv_s_read4(block, head, slot, d4, channel_scale, channel_zero, token);
}

/// Dims 4·d4 … of (head, slot) in the full-precision tail `tail` (quantized sections: the unsealed block).
fn kv_s_tail4(tail: u32, head: u32, slot: u32, d4: u32) -> vec4<f32> {
  return kv_f32x4(kv_tail_index(tail, S_IS_VALUE, head, slot) + d4 * 4u);
}
