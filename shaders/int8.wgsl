// Signed bytes of a word as f32 without shifts (a library: the weight readers, shaders/weights.wgsl, and the KV
// cache's, shaders/kv_cache.wgsl, include it). unpack4xI8 and `word >> vec4(0, 8, 16, 24)` are shifts by a vector,
// which SwiftShader runs lane by lane; masks, xor, subtraction and conversion run as SIMD (SwiftShader's prefill,
// side by side with unpack4xI8: SmolLM2-135M-shape Q8_0 1.23×, Q4_0 1.10×; bench/results/peers-quick-smollm-unpack.md).
// Each value is cut out in place, v·2^s with s its bit offset, made signed there with integer ops, converted (exact:
// at most 8 significant bits), and scaled by 2^−s (exact): the same f32 values as the shifts give.
const BYTE_MASKS = vec4<i32>(0xff, 0xff00, 0xff0000, -0x1000000); // -0x1000000: bits 24–31
const BYTE_SIGN_BITS = vec4<i32>(0x80, 0x8000, 0x800000, 0); // byte 3 in place is already signed
const BYTE_SCALES = vec4<f32>(1.0, 1.0 / 256.0, 1.0 / 65536.0, 1.0 / 16777216.0);

/// The four bytes of a word as signed int8 values, lowest first: (b ^ 0x80) − 0x80 in place.
fn int8x4(word: u32) -> vec4<f32> {
  let in_place = vec4<i32>(bitcast<i32>(word)) & BYTE_MASKS;
  return vec4<f32>((in_place ^ BYTE_SIGN_BITS) - BYTE_SIGN_BITS) * BYTE_SCALES;
}
