// Weight blocks held in registers (a library of the matmul family: matmul_rows.wgsl, matmul_subgroup.wgsl and
// matmul_tiled.wgsl include it, after weights.wgsl and matmul_norm.wgsl). On SwiftShader every storage load is a
// per-lane gather and a private array indexed in a loop lives in memory, so a block travels as a Block8 — eight
// vec4s in named fields — and F32, F16, BF16 blocks are read word by word, Q8_0 and Q4_0 quants 16 bytes at a
// time (weights.wgsl quant_texel: four words of w_data, or one texel; other formats through load_weight_block).
// Quantized blocks are scaled after their dot product, (Σ q·x)·d, not per value. (Reading whole blocks of the
// storage buffer as vec4<u32> instead of words was measured on SwiftShader: no faster — stories260K F32 decode
// 175.9 vs 170.3 tok/s, SmolLM2-135M-shape Q8_0 2.31 vs 2.50.)

// A row is FULL_BLOCKS blocks of 32 values, then (float formats, whose rows need not be whole blocks) TAIL_VEC4
// vec4s more; COLS is a multiple of 4.
const FULL_BLOCKS: u32 = COLS / 32u;
const TAIL_VEC4: u32 = (COLS % 32u) / 4u;

/// 32 values as eight vec4s, times `scale` (a quantized block's d; 1 otherwise). An input block read for weights
/// in place (below) carries in `offset` what its dot product with such a block counts too much; 0 otherwise.
struct Block8 {
  v0: vec4<f32>, v1: vec4<f32>, v2: vec4<f32>, v3: vec4<f32>,
  v4: vec4<f32>, v5: vec4<f32>, v6: vec4<f32>, v7: vec4<f32>,
  scale: f32,
  offset: f32,
}

fn dot8(w: Block8, x8: Block8) -> f32 {
  return (dot(w.v0, x8.v0) + dot(w.v1, x8.v1) + dot(w.v2, x8.v2) + dot(w.v3, x8.v3)
    + dot(w.v4, x8.v4) + dot(w.v5, x8.v5) + dot(w.v6, x8.v6) + dot(w.v7, x8.v7) - x8.offset) * w.scale;
}

// Q8_0 and Q4_0 values in place (BYTES_IN_PLACE, the rows kernel's option): a weight is masked out where it sits
// in its word, v·2^s (s its bit offset), and converted to f32 as it is — neither made signed nor scaled back —
// while the input block is scaled by 2^−s instead, once for all the invocation's rows. What the unsigned bytes
// count too much comes off the block's sum once (Block8.offset):
//   Q8_0: bytes 0–2 are read as q + 128 (word ^ 0x808080; byte 3 in place is already signed): offset
//         128·Σ x over bytes 0–2;
//   Q4_0: low nibbles are n = q + 8: offset 8·Σ x; high nibbles 0–2 too, and the top one is read as q (word ^
//         2^31): offset 8·Σ x over nibbles 0–2; high nibbles sit 4 bits higher, so their inputs are scaled by 2^−4 more.
// Exact products of exact values (at most 8 significant bits times a power of two); the sums round a little more
// than the signed ones (their terms are up to twice as large).
const IN_PLACE: bool = BYTES_IN_PLACE && (WEIGHT_FORMAT == FORMAT_Q8_0 || WEIGHT_FORMAT == FORMAT_Q4_0);
const FIRST_THREE = vec4<f32>(1.0, 1.0, 1.0, 0.0);

fn q8_in_place(word: u32) -> vec4<f32> {
  return vec4<f32>(vec4<i32>(bitcast<i32>(word ^ 0x808080u)) & BYTE_MASKS);
}

fn q4_low_in_place(word: u32) -> vec4<f32> {
  return vec4<f32>(vec4<i32>(bitcast<i32>(word)) & LOW_NIBBLES);
}

fn q4_high_in_place(word: u32) -> vec4<f32> {
  return vec4<f32>(vec4<i32>(bitcast<i32>(word ^ 0x80000000u)) & HIGH_NIBBLES);
}

fn f32x4_at(at: u32) -> vec4<f32> {
  return bitcast<vec4<f32>>(vec4<u32>(w_data[at], w_data[at + 1u], w_data[at + 2u], w_data[at + 3u]));
}

fn f16x4_at(at: u32) -> vec4<f32> {
  return vec4<f32>(unpack2x16float(w_data[at]), unpack2x16float(w_data[at + 1u]));
}

fn bf16x4_at(at: u32) -> vec4<f32> {
  let pair = vec2<u32>(w_data[at], w_data[at + 1u]);
  return bitcast<vec4<f32>>(vec4<u32>(pair.x << 16u, pair.x & 0xffff0000u, pair.y << 16u, pair.y & 0xffff0000u));
}

/// Values c … c+3 of weight row `row` (float formats: the row's tail after its whole blocks).
fn weight_vec4(row: u32, c: u32) -> vec4<f32> {
  if (WEIGHT_FORMAT == FORMAT_F16) {
    return f16x4_at((row * COLS + c) / 2u);
  } else if (WEIGHT_FORMAT == FORMAT_BF16) {
    return bf16x4_at((row * COLS + c) / 2u);
  }
  return f32x4_at(row * COLS + c);
}

/// A Q8_0 or Q4_0 block by its index in the chunk (weights.wgsl split_block_index), scaled by `scale` (its d).
fn split_block8(block_index: u32, scale: f32) -> Block8 {
  if (WEIGHT_FORMAT == FORMAT_Q8_0) {
    let lo = quant_texel(2u * block_index);
    let hi = quant_texel(2u * block_index + 1u);
    if (IN_PLACE) {
      return Block8(q8_in_place(lo.x), q8_in_place(lo.y), q8_in_place(lo.z), q8_in_place(lo.w),
        q8_in_place(hi.x), q8_in_place(hi.y), q8_in_place(hi.z), q8_in_place(hi.w), scale, 0.0);
    }
    return Block8(int8x4(lo.x), int8x4(lo.y), int8x4(lo.z), int8x4(lo.w), int8x4(hi.x), int8x4(hi.y), int8x4(hi.z), int8x4(hi.w), scale, 0.0);
  }
  // Q4_0, word k: low nibbles are values 4k..4k+3, high nibbles values 16+4k..16+4k+3 (GGUF order)
  let words = quant_texel(block_index);
  if (IN_PLACE) {
    return Block8(q4_low_in_place(words.x), q4_low_in_place(words.y), q4_low_in_place(words.z), q4_low_in_place(words.w),
      q4_high_in_place(words.x), q4_high_in_place(words.y), q4_high_in_place(words.z), q4_high_in_place(words.w), scale, 0.0);
  }
  return Block8(q4_low(words.x), q4_low(words.y), q4_low(words.z), q4_low(words.w),
    q4_high(words.x), q4_high(words.y), q4_high(words.z), q4_high(words.w), scale, 0.0);
}

/// Block b of weight row `row`.
fn weight_block8(row: u32, b: u32) -> Block8 {
  if (WEIGHT_FORMAT == FORMAT_Q8_0 || WEIGHT_FORMAT == FORMAT_Q4_0) {
    let block_index = split_block_index(row, b);
    return split_block8(block_index, weight_block_scale(block_index));
  } else if (WEIGHT_FORMAT == FORMAT_F32) {
    let at = row * COLS + b * 32u;
    return Block8(f32x4_at(at), f32x4_at(at + 4u), f32x4_at(at + 8u), f32x4_at(at + 12u),
      f32x4_at(at + 16u), f32x4_at(at + 20u), f32x4_at(at + 24u), f32x4_at(at + 28u), 1.0, 0.0);
  } else if (WEIGHT_FORMAT == FORMAT_F16) {
    let at = (row * COLS + b * 32u) / 2u;
    return Block8(f16x4_at(at), f16x4_at(at + 2u), f16x4_at(at + 4u), f16x4_at(at + 6u),
      f16x4_at(at + 8u), f16x4_at(at + 10u), f16x4_at(at + 12u), f16x4_at(at + 14u), 1.0, 0.0);
  } else if (WEIGHT_FORMAT == FORMAT_BF16) {
    let at = (row * COLS + b * 32u) / 2u;
    return Block8(bf16x4_at(at), bf16x4_at(at + 2u), bf16x4_at(at + 4u), bf16x4_at(at + 6u),
      bf16x4_at(at + 8u), bf16x4_at(at + 10u), bf16x4_at(at + 12u), bf16x4_at(at + 14u), 1.0, 0.0);
  }
  // The other formats (all quantized: 8 vec4s a block; the indices below stay valid when a float row's BLOCK_VEC4 is 1)
  let w = load_weight_block(row, b);
  return Block8(w[0], w[1u % BLOCK_VEC4], w[2u % BLOCK_VEC4], w[3u % BLOCK_VEC4], w[4u % BLOCK_VEC4], w[5u % BLOCK_VEC4],
    w[6u % BLOCK_VEC4], w[7u % BLOCK_VEC4], 1.0, 0.0);
}

/// Block b of token t's input (tile slot tt): staged, normed with `scale`, or raw (matmul_norm.wgsl's x_vec4).
fn x_block8(tt: u32, t: u32, b: u32, scale: f32) -> Block8 {
  let v = b * 8u;
  let x8 = Block8(x_vec4(tt, t, v, scale), x_vec4(tt, t, v + 1u, scale), x_vec4(tt, t, v + 2u, scale), x_vec4(tt, t, v + 3u, scale),
    x_vec4(tt, t, v + 4u, scale), x_vec4(tt, t, v + 5u, scale), x_vec4(tt, t, v + 6u, scale), x_vec4(tt, t, v + 7u, scale), 1.0, 0.0);
  if (IN_PLACE) {
    return placed_input(x8);
  }
  return x8;
}

/// An input block for weights in place: each value scaled by 2^−s of its weight's place, and the offset.
fn placed_input(x8: Block8) -> Block8 {
  if (WEIGHT_FORMAT == FORMAT_Q8_0) {
    let first_three = dot(x8.v0, FIRST_THREE) + dot(x8.v1, FIRST_THREE) + dot(x8.v2, FIRST_THREE) + dot(x8.v3, FIRST_THREE)
      + dot(x8.v4, FIRST_THREE) + dot(x8.v5, FIRST_THREE) + dot(x8.v6, FIRST_THREE) + dot(x8.v7, FIRST_THREE);
    return Block8(x8.v0 * BYTE_SCALES, x8.v1 * BYTE_SCALES, x8.v2 * BYTE_SCALES, x8.v3 * BYTE_SCALES,
      x8.v4 * BYTE_SCALES, x8.v5 * BYTE_SCALES, x8.v6 * BYTE_SCALES, x8.v7 * BYTE_SCALES, 1.0, 128.0 * first_three);
  }
  let ones = vec4<f32>(1.0);
  let low = dot(x8.v0, ones) + dot(x8.v1, ones) + dot(x8.v2, ones) + dot(x8.v3, ones);
  let high = dot(x8.v4, FIRST_THREE) + dot(x8.v5, FIRST_THREE) + dot(x8.v6, FIRST_THREE) + dot(x8.v7, FIRST_THREE);
  let high_scales = BYTE_SCALES / 16.0;
  return Block8(x8.v0 * BYTE_SCALES, x8.v1 * BYTE_SCALES, x8.v2 * BYTE_SCALES, x8.v3 * BYTE_SCALES,
    x8.v4 * high_scales, x8.v5 * high_scales, x8.v6 * high_scales, x8.v7 * high_scales, 1.0, 8.0 * (low + high));
}
