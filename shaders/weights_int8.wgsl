// Int8 × int8 block dot products for the rows matmul (a library of the matmul family, after weights.wgsl and
// matmul_norm.wgsl): with INT8_X, binding x holds the input quantized by shaders/quantize_x.wgsl, and a Q8_0 or
// Q4_0 block's dot product is integer — dot4I8Packed over four value pairs a word — scaled once:
//
//   Q8_0:  (Σ_j qw[j]·qx[j]) · dw · dx
//   Q4_0:  (Σ_j nibble[j]·qx[j] − 8·Σ_j qx[j]) · dw · dx      (nibble = qw + 8, 0 … 15: a non-negative int8)
//
// On SwiftShader dot4I8Packed on packed words costs less than unpacking 32 values to f32 (≈ 1.3–1.8× the
// matvec rate, bench/swiftshader-profile.ts), but more than reading the weights in place (weights_block8.wgsl);
// with IN_PLACE the int8 block is unpacked to f32 once for all the invocation's rows instead (x_int8_placed):
// SwiftShader's default, whose cost is loads, 8 words a block where the f32 input is 32 floats. On GPUs
// dot4I8Packed is a native 4-way int8 dot product (DP4a). Results differ
// from the f32 path by the input's quantization (as llama.cpp's CPU matmuls, which quantize their input to q8_0).

/// One token's quantized block: its 32 values in 8 words (values 4k … 4k+3 in word k), d and Σ q.
struct XInt8 {
  lo: vec4<u32>, // words 0 … 3: values 0 … 15
  hi: vec4<u32>, // words 4 … 7: values 16 … 31
  scale: f32,
  sum: i32,
}

fn x_word(i: u32) -> u32 {
  return bitcast<u32>(x[i >> 2u][i & 3u]);
}

/// Block b of token t of the quantized input.
fn x_int8_block(t: u32, b: u32) -> XInt8 {
  let row = t * X_INT8_STRIDE;
  let at = (row + b * 8u) >> 2u;
  return XInt8(bitcast<vec4<u32>>(x[at]), bitcast<vec4<u32>>(x[at + 1u]),
    bitcast<f32>(x_word(row + FULL_BLOCKS * 8u + b)), bitcast<i32>(x_word(row + FULL_BLOCKS * 9u + b)));
}

/// The block's 32 values as f32 — its q, not times d — for weights read in place (IN_PLACE, weights_block8.wgsl):
/// the rows kernel's dot8 against such weights is then a sum of integer products below 2^24, exact in f32, so
/// `dot8(w, x_int8_placed(xb)) * xb.scale` equals int8_dot(w, xb) bit for bit. On SwiftShader, where every storage
/// load is a gather per lane, the block's 8 words replace the 32 floats of the f32 input.
fn x_int8_placed(xb: XInt8) -> Block8 {
  return placed_input(Block8(int8x4(xb.lo.x), int8x4(xb.lo.y), int8x4(xb.lo.z), int8x4(xb.lo.w),
    int8x4(xb.hi.x), int8x4(xb.hi.y), int8x4(xb.hi.z), int8x4(xb.hi.w), 1.0, 0.0));
}

/// A weight block's 32 values as int8 words in the input's order (Q4_0: nibble + 8, the offset taken off by int8_dot).
struct WInt8 {
  lo: vec4<u32>,
  hi: vec4<u32>,
  scale: f32,
}

fn weight_int8_block(row: u32, b: u32) -> WInt8 {
  let block_index = split_block_index(row, b);
  if (WEIGHT_FORMAT == FORMAT_Q4_0) {
    // word k: low nibbles are values 4k … 4k+3, high nibbles values 16+4k … 16+4k+3 (GGUF order)
    let words = quant_texel(block_index);
    let nibbles = vec4<u32>(0x0f0f0f0fu);
    return WInt8(words & nibbles, (words >> vec4<u32>(4u)) & nibbles, weight_block_scale(block_index));
  }
  return WInt8(quant_texel(2u * block_index), quant_texel(2u * block_index + 1u), weight_block_scale(block_index));
}

fn int8_dot(w: WInt8, xb: XInt8) -> f32 {
  var sum = dot4I8Packed(w.lo.x, xb.lo.x) + dot4I8Packed(w.lo.y, xb.lo.y) + dot4I8Packed(w.lo.z, xb.lo.z) + dot4I8Packed(w.lo.w, xb.lo.w)
    + dot4I8Packed(w.hi.x, xb.hi.x) + dot4I8Packed(w.hi.y, xb.hi.y) + dot4I8Packed(w.hi.z, xb.hi.z) + dot4I8Packed(w.hi.w, xb.hi.w);
  if (WEIGHT_FORMAT == FORMAT_Q4_0) {
    sum -= 8 * xb.sum;
  }
  return f32(sum) * w.scale * xb.scale;
}
