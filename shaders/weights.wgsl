// Weight formats as webkv keeps them on the GPU: still quantized, every read an aligned u32
// (src/model/weight-layout.ts packs them). A kernel that includes this library declares `w_data` and
// `w_scales` (array<u32>) and the constants WEIGHT_FORMAT (ggml type number) and COLS (row length).
//
// float layouts:
//   F32:  w_data[row·COLS + c]                      f32 bits
//   F16:  w_data[(row·COLS + c) / 2]                two halves, the even column in the low half
//   BF16: w_data[(row·COLS + c) / 2]                two bfloat16, the even column in the low half
// split layouts (w_scales: one f16 d per 32-value block, two per word; block i = split_block_index(row, b) below),
// the quants read 16 bytes at a time by quant_texel(t) — words 4t … 4t+3 of w_data, or texel t of a texture:
//   Q8_0: texels 2i, 2i+1    32 int8 per block, 4 per word
//   Q4_0: texel i            GGUF nibble order: byte j holds values j (low) and j+16 (high)
// padded layouts: GGUF block i of the chunk at byte i·PADDED_BLOCK_BYTES, its bytes as in the file (offsets below),
// zeros after (w_scales unused). Blocks of 32 values:
//   Q4_1   20 B: f16 d @0 · f16 m @2 · qs[16] @4              x = q·d + m
//   Q5_0   24 B: f16 d @0 · u32 qh @2 · qs[16] @6             q |= bit j of qh << 4;  x = (q − 16)·d
//   Q5_1   24 B: f16 d @0 · f16 m @2 · u32 qh @4 · qs[16] @8  x = q·d + m
//   IQ4_NL 20 B: f16 d @0 · qs[16] @2                         x = d·IQ4NL_LEVELS[q]
// Super-blocks of 256 values, read a 32-value sub-block s (0..7) at a time (see src/gguf/quant-k.ts, quant-iq4.ts):
//   Q2_K   84 B: scales[16] @0 · qs[64] @16 · f16 d, dmin @80
//   Q3_K  112 B: hmask[32] @0 · qs[64] @32 · scales[12] @96 · f16 d @108
//   Q4_K  144 B: f16 d, dmin @0 · scales[12] @4 · qs[128] @16
//   Q5_K  176 B: f16 d, dmin @0 · scales[12] @4 · qh[32] @16 · qs[128] @48
//   Q6_K  212 B: ql[128] @0 · qh[64] @128 · int8 scales[16] @192 · f16 d @208
//   IQ4_XS 136 B: f16 d @0 · u16 scales_h @2 · scales_l[4] @4 · qs[128] @8
// A kernel that includes this library also includes one of shaders/weight_quants_storage.wgsl and
// weight_quants_texels.wgsl (quant_texel), and declares the constant ROW_GROUP (the matrix's row group: split layouts
// in groups of ROW_GROUP rows whose blocks interleave, src/model/weight-layout.ts; 1 otherwise) and
// `fn weight_rows() -> u32`, the rows of the bound chunk (its last group may hold fewer).
// Values are produced a "weight block" at a time: BLOCK_VEC4 vec4s (32 values, or 4 for float rows that are not
// a multiple of 32).

const FORMAT_F32: u32 = 0u;
const FORMAT_F16: u32 = 1u;
const FORMAT_Q4_0: u32 = 2u;
const FORMAT_Q4_1: u32 = 3u;
const FORMAT_Q5_0: u32 = 6u;
const FORMAT_Q5_1: u32 = 7u;
const FORMAT_Q8_0: u32 = 8u;
const FORMAT_Q2_K: u32 = 10u;
const FORMAT_Q3_K: u32 = 11u;
const FORMAT_Q4_K: u32 = 12u;
const FORMAT_Q5_K: u32 = 13u;
const FORMAT_Q6_K: u32 = 14u;
const FORMAT_IQ4_NL: u32 = 20u;
const FORMAT_IQ4_XS: u32 = 23u;
const FORMAT_BF16: u32 = 30u;

const IS_FLOAT_FORMAT: bool = WEIGHT_FORMAT == FORMAT_F32 || WEIGHT_FORMAT == FORMAT_F16 || WEIGHT_FORMAT == FORMAT_BF16;
const BLOCK_VEC4: u32 = select(8u, 1u, IS_FLOAT_FORMAT && COLS % 32u != 0u);
const BLOCK_VALUES: u32 = BLOCK_VEC4 * 4u;
const BLOCKS_PER_ROW: u32 = COLS / BLOCK_VALUES;

// Padded layouts: bytes per GGUF block on the GPU (0: not a padded format), by ggml type number.
const PADDED_BLOCK_BYTES: u32 = array<u32, 31>(
  0u, 0u, 0u, 20u, 0u, 0u, 24u, 24u, 0u, 0u,          // 0..9:  Q4_1 3, Q5_0 6, Q5_1 7
  84u, 112u, 144u, 176u, 212u, 0u, 0u, 0u, 0u, 0u,    // 10..19: Q2_K..Q6_K
  20u, 0u, 0u, 136u, 0u, 0u, 0u, 0u, 0u, 0u, 0u       // 20..30: IQ4_NL 20, IQ4_XS 23
)[min(WEIGHT_FORMAT, 30u)];
const IS_SUPER_BLOCK: bool = (WEIGHT_FORMAT >= FORMAT_Q2_K && WEIGHT_FORMAT <= FORMAT_Q6_K) || WEIGHT_FORMAT == FORMAT_IQ4_XS;
const SUB_BLOCKS: u32 = select(1u, 8u, IS_SUPER_BLOCK); // 32-value sub-blocks per GGUF block

// The 16 levels of IQ4_NL / IQ4_XS (ggml's kvalues_iq4nl).
const IQ4NL_LEVELS = array<f32, 16>(-127.0, -104.0, -83.0, -65.0, -49.0, -35.0, -22.0, -10.0, 1.0, 13.0, 25.0, 38.0, 53.0, 69.0, 89.0, 113.0);

fn weight_block_scale(block_index: u32) -> f32 {
  let halves = unpack2x16float(w_scales[block_index >> 1u]);
  return select(halves.x, halves.y, (block_index & 1u) == 1u);
}

/// Byte `at` of w_data.
fn w_byte(at: u32) -> u32 {
  return (w_data[at >> 2u] >> ((at & 3u) * 8u)) & 0xffu;
}

/// The f16 at an even byte offset.
fn w_half(at: u32) -> f32 {
  let halves = unpack2x16float(w_data[at >> 2u]);
  return select(halves.x, halves.y, (at & 2u) != 0u);
}

/// Four bytes starting at any byte offset, as one little-endian word.
fn w_word(at: u32) -> u32 {
  let i = at >> 2u;
  let shift = (at & 3u) * 8u;
  if (shift == 0u) {
    return w_data[i];
  }
  return (w_data[i] >> shift) | (w_data[i + 1u] << (32u - shift));
}

/// The four bytes of a word, lowest first.
fn bytes4(word: u32) -> vec4<u32> {
  return (vec4<u32>(word) >> vec4<u32>(0u, 8u, 16u, 24u)) & vec4<u32>(0xffu);
}

// Q4_0 nibbles without shifts, as shaders/int8.wgsl's bytes (included before this file): cut out in place, made
// signed there, converted, scaled back by 2^−s.
const LOW_NIBBLES = vec4<i32>(0xf, 0xf00, 0xf0000, 0xf000000);
const HIGH_NIBBLES = vec4<i32>(0xf0, 0xf000, 0xf00000, -0x10000000); // -0x10000000: bits 28–31
const LOW_EIGHTS = vec4<i32>(0x8, 0x800, 0x80000, 0x8000000); // 8 at each low nibble's place
const HIGH_EIGHTS = vec4<i32>(0x80, 0x8000, 0x800000, -0x80000000); // 8 at each high nibble's place (2^31 wraps)

/// Q4_0: the low nibbles of a word's four bytes, less 8 (values 4k … 4k+3 of a block in word k).
fn q4_low(word: u32) -> vec4<f32> {
  return vec4<f32>((vec4<i32>(bitcast<i32>(word)) & LOW_NIBBLES) - LOW_EIGHTS) * BYTE_SCALES;
}

/// Q4_0: the high nibbles, less 8 (values 16+4k … 16+4k+3). The top nibble's 8·2^28 is −2^31 as an i32, and the
/// subtraction wraps to (n − 8)·2^28 for every n in 0 … 15.
fn q4_high(word: u32) -> vec4<f32> {
  return vec4<f32>((vec4<i32>(bitcast<i32>(word)) & HIGH_NIBBLES) - HIGH_EIGHTS) * (BYTE_SCALES / 16.0);
}

fn iq4nl_levels(q: vec4<u32>) -> vec4<f32> {
  return vec4<f32>(IQ4NL_LEVELS[q.x], IQ4NL_LEVELS[q.y], IQ4NL_LEVELS[q.z], IQ4NL_LEVELS[q.w]);
}

// Each decode_* returns the 32 values of sub-block `s` of the GGUF block at byte `at`, as 8 vec4s in order.

fn decode_q4_1(at: u32) -> array<vec4<f32>, 8> {
  var v: array<vec4<f32>, 8>;
  let dm = unpack2x16float(w_data[at >> 2u]);
  for (var k = 0u; k < 4u; k++) {
    let q = bytes4(w_data[(at >> 2u) + 1u + k]);
    v[k] = vec4<f32>(q & vec4<u32>(15u)) * dm.x + dm.y;
    v[k + 4u] = vec4<f32>(q >> vec4<u32>(4u)) * dm.x + dm.y;
  }
  return v;
}

/// Q5_0 / Q5_1: qh at byte `qh_at`, qs right after it; x = (q + offset)·d + m.
fn decode_q5(qh_at: u32, d: f32, m: f32, offset: f32) -> array<vec4<f32>, 8> {
  var v: array<vec4<f32>, 8>;
  let qh = vec4<u32>(w_word(qh_at));
  for (var k = 0u; k < 4u; k++) {
    let q = bytes4(w_word(qh_at + 4u + 4u * k));
    let j = vec4<u32>(4u * k) + vec4<u32>(0u, 1u, 2u, 3u);
    let low = (q & vec4<u32>(15u)) | (((qh >> j) & vec4<u32>(1u)) << vec4<u32>(4u));
    let high = (q >> vec4<u32>(4u)) | (((qh >> (j + vec4<u32>(16u))) & vec4<u32>(1u)) << vec4<u32>(4u));
    v[k] = (vec4<f32>(low) + offset) * d + m;
    v[k + 4u] = (vec4<f32>(high) + offset) * d + m;
  }
  return v;
}

fn decode_iq4_nl(at: u32) -> array<vec4<f32>, 8> {
  var v: array<vec4<f32>, 8>;
  let d = w_half(at);
  for (var k = 0u; k < 4u; k++) {
    let q = bytes4(w_word(at + 2u + 4u * k));
    v[k] = iq4nl_levels(q & vec4<u32>(15u)) * d;
    v[k + 4u] = iq4nl_levels(q >> vec4<u32>(4u)) * d;
  }
  return v;
}

fn decode_iq4_xs(at: u32, s: u32) -> array<vec4<f32>, 8> {
  var v: array<vec4<f32>, 8>;
  let w = at >> 2u;
  let d = unpack2x16float(w_data[w]).x;
  let scales_high = w_data[w] >> 16u;
  let low = (w_data[w + 1u] >> (8u * (s >> 1u) + 4u * (s & 1u))) & 15u;
  let ls = low | (((scales_high >> (2u * s)) & 3u) << 4u);
  let dl = d * f32(i32(ls) - 32);
  for (var k = 0u; k < 4u; k++) {
    let q = bytes4(w_data[w + 2u + 4u * s + k]);
    v[k] = iq4nl_levels(q & vec4<u32>(15u)) * dl;
    v[k + 4u] = iq4nl_levels(q >> vec4<u32>(4u)) * dl;
  }
  return v;
}

fn decode_q2_k(at: u32, s: u32) -> array<vec4<f32>, 8> {
  var v: array<vec4<f32>, 8>;
  let w = at >> 2u;
  let dd = unpack2x16float(w_data[w + 20u]); // (d, dmin)
  let scales = w_data[w + (s >> 1u)] >> (16u * (s & 1u)); // bytes 2s, 2s + 1
  let shift = vec4<u32>(2u * (s & 3u));
  let qs = w + 4u + 8u * (s >> 2u);
  for (var half = 0u; half < 2u; half++) {
    let sc = (scales >> (8u * half)) & 0xffu;
    let dl = dd.x * f32(sc & 15u);
    let ml = dd.y * f32(sc >> 4u);
    for (var k = 0u; k < 4u; k++) {
      let q = (bytes4(w_data[qs + 4u * half + k]) >> shift) & vec4<u32>(3u);
      v[4u * half + k] = vec4<f32>(q) * dl - ml;
    }
  }
  return v;
}

/// Q3_K's 6-bit scale i (0..15), before the −32.
fn q3_k_scale(at: u32, i: u32) -> u32 {
  let source = w_byte(at + 96u + (i & 7u));
  let low = select(source & 15u, source >> 4u, i >= 8u);
  let high = (w_byte(at + 104u + (i & 3u)) >> (2u * (i >> 2u))) & 3u;
  return low | (high << 4u);
}

fn decode_q3_k(at: u32, s: u32) -> array<vec4<f32>, 8> {
  var v: array<vec4<f32>, 8>;
  let w = at >> 2u;
  let d = unpack2x16float(w_data[w + 27u]).x;
  let shift = vec4<u32>(2u * (s & 3u));
  let qs = w + 8u + 8u * (s >> 2u);
  for (var half = 0u; half < 2u; half++) {
    let dl = d * f32(i32(q3_k_scale(at, 2u * s + half)) - 32);
    for (var k = 0u; k < 4u; k++) {
      let low = (bytes4(w_data[qs + 4u * half + k]) >> shift) & vec4<u32>(3u);
      let high = (bytes4(w_data[w + 4u * half + k]) >> vec4<u32>(s)) & vec4<u32>(1u);
      v[4u * half + k] = (vec4<f32>(low) - 4.0 * vec4<f32>(vec4<u32>(1u) - high)) * dl;
    }
  }
  return v;
}

/// Q4_K / Q5_K: (d·scale, dmin·min) of sub-block s (ggml's get_scale_min_k4 over the 12 bytes at `at` + 4).
fn k4_scale_min(at: u32, s: u32) -> vec2<f32> {
  let dd = unpack2x16float(w_data[at >> 2u]);
  let q = at + 4u;
  var sc: u32;
  var m: u32;
  if (s < 4u) {
    sc = w_byte(q + s) & 63u;
    m = w_byte(q + s + 4u) & 63u;
  } else {
    sc = (w_byte(q + s + 4u) & 15u) | ((w_byte(q + s - 4u) >> 6u) << 4u);
    m = (w_byte(q + s + 4u) >> 4u) | ((w_byte(q + s) >> 6u) << 4u);
  }
  return vec2<f32>(dd.x * f32(sc), dd.y * f32(m));
}

/// Q4_K (qh_word = 0: no fifth bit) and Q5_K: qs at byte `qs_at`, qh at word `qh_word` of the block.
fn decode_q45_k(at: u32, s: u32, qs_at: u32, qh_word: u32) -> array<vec4<f32>, 8> {
  var v: array<vec4<f32>, 8>;
  let w = at >> 2u;
  let scale_min = k4_scale_min(at, s);
  let shift = vec4<u32>(4u * (s & 1u));
  let qs = w + (qs_at >> 2u) + 8u * (s >> 1u);
  for (var k = 0u; k < 8u; k++) {
    var q = (bytes4(w_data[qs + k]) >> shift) & vec4<u32>(15u);
    if (qh_word != 0u) {
      q += ((bytes4(w_data[w + qh_word + k]) >> vec4<u32>(s)) & vec4<u32>(1u)) << vec4<u32>(4u);
    }
    v[k] = vec4<f32>(q) * scale_min.x - scale_min.y;
  }
  return v;
}

fn decode_q6_k(at: u32, s: u32) -> array<vec4<f32>, 8> {
  var v: array<vec4<f32>, 8>;
  let w = at >> 2u;
  let d = unpack2x16float(w_data[w + 52u]).x;
  let n = s >> 2u;
  let g = s & 3u;
  let ql = w + 16u * n + 8u * (g & 1u);
  let qh = w + 32u + 8u * n;
  let low_shift = vec4<u32>(4u * (g >> 1u));
  let high_shift = vec4<u32>(2u * g);
  for (var half = 0u; half < 2u; half++) {
    let scale_at = at + 192u + 8u * n + 2u * g + half;
    let sc = i32(w_byte(scale_at) << 24u) >> 24u; // int8
    let ds = d * f32(sc);
    for (var k = 0u; k < 4u; k++) {
      let i = 4u * half + k;
      let low = (bytes4(w_data[ql + i]) >> low_shift) & vec4<u32>(15u);
      let high = (bytes4(w_data[qh + i]) >> high_shift) & vec4<u32>(3u);
      v[i] = vec4<f32>(vec4<i32>(low | (high << vec4<u32>(4u))) - vec4<i32>(32)) * ds;
    }
  }
  return v;
}

/// Sub-block `b` (32 values) of a padded-layout row.
fn load_padded_block(row: u32, b: u32) -> array<vec4<f32>, 8> {
  let block = row * (BLOCKS_PER_ROW / SUB_BLOCKS) + b / SUB_BLOCKS;
  let s = b % SUB_BLOCKS;
  let at = block * PADDED_BLOCK_BYTES;
  switch (WEIGHT_FORMAT) {
    case FORMAT_Q4_1: { return decode_q4_1(at); }
    case FORMAT_Q5_0: { return decode_q5(at + 2u, w_half(at), 0.0, -16.0); }
    case FORMAT_Q5_1: { let dm = unpack2x16float(w_data[at >> 2u]); return decode_q5(at + 4u, dm.x, dm.y, 0.0); }
    case FORMAT_IQ4_NL: { return decode_iq4_nl(at); }
    case FORMAT_IQ4_XS: { return decode_iq4_xs(at, s); }
    case FORMAT_Q2_K: { return decode_q2_k(at, s); }
    case FORMAT_Q3_K: { return decode_q3_k(at, s); }
    case FORMAT_Q4_K: { return decode_q45_k(at, s, 16u, 0u); }
    case FORMAT_Q5_K: { return decode_q45_k(at, s, 48u, 4u); }
    default: { return decode_q6_k(at, s); }
  }
}

/// Index of block b of row `row` of a split layout (Q8_0, Q4_0) in w_data's blocks and w_scales: row by row, or
/// in groups of ROW_GROUP rows (a power of two) whose blocks interleave — block b of the group's row j at b·g + j,
/// g the group's rows.
fn split_block_index(row: u32, b: u32) -> u32 {
  if (ROW_GROUP == 1u) {
    return row * BLOCKS_PER_ROW + b;
  }
  let j = row & (ROW_GROUP - 1u);
  let group_start = row - j;
  let group_rows = min(ROW_GROUP, weight_rows() - group_start);
  return group_start * BLOCKS_PER_ROW + b * group_rows + j;
}

/// Values [b·BLOCK_VALUES, (b+1)·BLOCK_VALUES) of row `row`, as BLOCK_VEC4 vec4s.
fn load_weight_block(row: u32, b: u32) -> array<vec4<f32>, BLOCK_VEC4> {
  var values: array<vec4<f32>, BLOCK_VEC4>;
  if (WEIGHT_FORMAT == FORMAT_F32) {
    let base = row * COLS + b * BLOCK_VALUES;
    for (var j = 0u; j < BLOCK_VEC4; j++) {
      let at = base + j * 4u;
      values[j] = bitcast<vec4<f32>>(vec4<u32>(w_data[at], w_data[at + 1u], w_data[at + 2u], w_data[at + 3u]));
    }
  } else if (WEIGHT_FORMAT == FORMAT_F16) {
    let base = (row * COLS + b * BLOCK_VALUES) / 2u;
    for (var j = 0u; j < BLOCK_VEC4; j++) {
      values[j] = vec4<f32>(unpack2x16float(w_data[base + 2u * j]), unpack2x16float(w_data[base + 2u * j + 1u]));
    }
  } else if (WEIGHT_FORMAT == FORMAT_BF16) {
    let base = (row * COLS + b * BLOCK_VALUES) / 2u;
    for (var j = 0u; j < BLOCK_VEC4; j++) {
      let pair = vec2<u32>(w_data[base + 2u * j], w_data[base + 2u * j + 1u]);
      values[j] = bitcast<vec4<f32>>(vec4<u32>(pair.x << 16u, pair.x & 0xffff0000u, pair.y << 16u, pair.y & 0xffff0000u));
    }
  } else if (WEIGHT_FORMAT == FORMAT_Q8_0) {
    let block_index = split_block_index(row, b);
    let d = weight_block_scale(block_index);
    let low = quant_texel(2u * block_index);
    let high = quant_texel(2u * block_index + 1u);
    for (var k = 0u; k < 4u; k++) {
      values[k] = int8x4(low[k]) * d;
      values[k + 4u] = int8x4(high[k]) * d;
    }
  } else if (WEIGHT_FORMAT == FORMAT_Q4_0) {
    let block_index = split_block_index(row, b);
    let d = weight_block_scale(block_index);
    let words = quant_texel(block_index);
    for (var k = 0u; k < 4u; k++) {
      values[k] = q4_low(words[k]) * d;
      values[k + 4u] = q4_high(words[k]) * d;
    }
  } else {
    let decoded = load_padded_block(row, b);
    for (var j = 0u; j < BLOCK_VEC4; j++) {
      values[j] = decoded[j];
    }
  }
  return values;
}
