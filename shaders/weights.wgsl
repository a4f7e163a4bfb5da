// Weight formats as webkv keeps them on the GPU: still quantized, repacked at upload from GGUF's
// array-of-blocks into a structure of arrays so every read is an aligned u32 (src/model/weight-layout.ts).
// A kernel that includes this library declares `w_data` and `w_scales` (array<u32>) and the constants
//   WEIGHT_FORMAT (ggml type number: 0 F32, 1 F16, 2 Q4_0, 8 Q8_0) and COLS (row length).
//
//   F32:  w_data[row·COLS + c]                      f32 bits
//   F16:  w_data[(row·COLS + c) / 2]                two halves, the even column in the low half
//   Q8_0: w_data[(row·BLOCKS_PER_ROW + b)·8 + j/4]  32 int8 per block, 4 per word;  w_scales: f16 d per block
//   Q4_0: w_data[(row·BLOCKS_PER_ROW + b)·4 + k]    GGUF nibble order: byte j holds values j (low) and j+16 (high)
// Values are produced a "weight block" at a time: BLOCK_VEC4 vec4s (32 values, or 4 for F32/F16 rows that
// are not a multiple of 32).

const FORMAT_F32: u32 = 0u;
const FORMAT_F16: u32 = 1u;
const FORMAT_Q4_0: u32 = 2u;
const FORMAT_Q8_0: u32 = 8u;

const IS_FLOAT_FORMAT: bool = WEIGHT_FORMAT == FORMAT_F32 || WEIGHT_FORMAT == FORMAT_F16;
const BLOCK_VEC4: u32 = select(8u, 1u, IS_FLOAT_FORMAT && COLS % 32u != 0u);
const BLOCK_VALUES: u32 = BLOCK_VEC4 * 4u;
const BLOCKS_PER_ROW: u32 = COLS / BLOCK_VALUES;

fn weight_block_scale(block_index: u32) -> f32 {
  let halves = unpack2x16float(w_scales[block_index >> 1u]);
  return select(halves.x, halves.y, (block_index & 1u) == 1u);
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
  } else if (WEIGHT_FORMAT == FORMAT_Q8_0) {
    let block_index = row * BLOCKS_PER_ROW + b;
    let d = weight_block_scale(block_index);
    for (var j = 0u; j < 8u; j++) {
      values[j] = vec4<f32>(unpack4xI8(w_data[block_index * 8u + j])) * d;
    }
  } else {
    let block_index = row * BLOCKS_PER_ROW + b;
    let d = weight_block_scale(block_index);
    for (var k = 0u; k < 4u; k++) {
      let word = w_data[block_index * 4u + k];
      let low = vec4<u32>(word, word >> 8u, word >> 16u, word >> 24u) & vec4<u32>(15u);
      let high = vec4<u32>(word >> 4u, word >> 12u, word >> 20u, word >> 28u) & vec4<u32>(15u);
      values[k] = (vec4<f32>(low) - 8.0) * d;
      values[k + 4u] = (vec4<f32>(high) - 8.0) * d;
    }
  }
  return values;
}
