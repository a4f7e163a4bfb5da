// One section of a KV block — the keys or the values — read 4 dims at a time (a library: include after
// kv_cache.wgsl). A template over S: the wrappers include it twice (src/kernels/kv-shape.ts kvReadLibrary), once
// with S_ / kv_s_ written K_ / kv_k_ and once V_ / kv_v_, so every format branch below tests a compile-time
// constant. On SwiftShader that matters: a branch on a runtime value runs both of its sides (under a lane
// mask), so one generic reader would pay for all four formats at every key.

/// Dims 4·d4 … 4·d4+3 of (head, slot) in block `block`, decoded from the section's format.
fn kv_s_load4(block: u32, head: u32, slot: u32, d4: u32) -> vec4<f32> {
  let base = block * KV_BLOCK_WORDS + S_OFFSET;
  let value = (head * BLOCK_SIZE + slot) * HEAD_DIM + d4 * 4u;
  if (S_TYPE == KV_F32) {
    return kv_f32x4(base + value);
  }
  if (S_TYPE == KV_F16) {
    let at = base + value / 2u;
    return vec4<f32>(unpack2x16float(kv_pool[at]), unpack2x16float(kv_pool[at + 1u]));
  }
  let channel = head * HEAD_DIM + d4 * 4u;
  var scale: vec4<f32>;
  var zero = vec4<f32>(0.0);
  if (S_TOKEN_GROUPS) {
    let group_byte = (channel / S_GROUP) * BLOCK_SIZE + slot;
    scale = vec4<f32>(kv_scale(kv_byte_at(group_byte, base + S_SCALE_OFFSET)));
    if (S_TYPE == KV_INT4) {
      zero = vec4<f32>(f32((i32(kv_byte_at(group_byte, base + S_ZERO_OFFSET)) << 24u) >> 24u));
    }
  } else {
    scale = kv_scales4(kv_pool[base + S_SCALE_OFFSET + channel / 4u]);
    if (S_TYPE == KV_INT4) {
      zero = vec4<f32>(unpack4xI8(kv_pool[base + S_ZERO_OFFSET + channel / 4u])); // signed zero bytes
    }
  }
  if (S_TYPE == KV_INT8) {
    return vec4<f32>(unpack4xI8(kv_pool[base + value / 4u])) * scale;
  }
  let word = kv_pool[base + value / 8u] >> (4u * (value % 8u));
  let q = vec4<u32>(word, word >> 4u, word >> 8u, word >> 12u) & vec4<u32>(15u);
  return (vec4<f32>(q) - zero) * scale;
}

/// Dims 4·d4 … of (head, slot) in the full-precision tail `tail` (quantized sections: the unsealed block).
fn kv_s_tail4(tail: u32, head: u32, slot: u32, d4: u32) -> vec4<f32> {
  return kv_f32x4(kv_tail_index(tail, S_IS_VALUE, head, slot) + d4 * 4u);
}
