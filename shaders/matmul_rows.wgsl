// Matrix × one token's activations for CPU adapters (SwiftShader): each invocation owns ROWS_PER_INVOCATION (4
// or 8) consecutive weight rows. The wrapper includes weights.wgsl, activation.wgsl and matmul_norm.wgsl, with
// the same options as matmul.wgsl, and uses it only for decode steps (TOKEN_TILE = 1) of rows of whole 32-value
// blocks.
//
//   y[t, ROW_OFFSET + r] (+)= Σ_c W[r, c] · x[t, c]       W: [rows of this chunk, COLS]   x: [1, COLS]
//
// Why: on SwiftShader every storage load is a per-lane gather and a private array indexed in a loop lives in
// memory, so matmul.wgsl's decode (the block dequantized into an array, x re-read for every row) costs several
// loads per weight. Here a block's eight x vec4s are loaded once into registers and shared by the invocation's
// rows, and F32/F16/BF16/Q8_0/Q4_0 blocks are dotted word by word without an array (other formats dequantize
// through load_weight_block). bench/swiftshader-profile.ts measures the kernels side by side. Quantized blocks
// are scaled after their dot product (Σ q·x)·d, not per value: results differ from matmul.wgsl by rounding.

struct MatmulParams {
  rows: u32,
  row_offset: u32,
  y_stride: u32,
  _pad: u32,
}

@group(0) @binding(0) var<uniform> step: Step;
@group(0) @binding(1) var<uniform> params: MatmulParams;
@group(0) @binding(2) var<storage, read> w_data: array<u32>;
@group(0) @binding(3) var<storage, read> w_scales: array<u32>;
@group(0) @binding(4) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read_write> y: array<f32>;
@group(0) @binding(6) var<storage, read> norm_g: array<vec4<f32>>; // NORM_INPUT: the norm's weight [COLS]

/// Σ_j W[row, 32·b + j]·x_j for one block, x_j the block's inputs as eight vec4s (x0 = x_{0..3}, …).
fn block_dot_x(row: u32, b: u32, x0: vec4<f32>, x1: vec4<f32>, x2: vec4<f32>, x3: vec4<f32>, x4: vec4<f32>, x5: vec4<f32>, x6: vec4<f32>, x7: vec4<f32>) -> f32 {
  if (WEIGHT_FORMAT == FORMAT_Q8_0) {
    let block_index = row * BLOCKS_PER_ROW + b;
    let at = block_index * 8u;
    let q = dot(vec4<f32>(unpack4xI8(w_data[at])), x0) + dot(vec4<f32>(unpack4xI8(w_data[at + 1u])), x1)
      + dot(vec4<f32>(unpack4xI8(w_data[at + 2u])), x2) + dot(vec4<f32>(unpack4xI8(w_data[at + 3u])), x3)
      + dot(vec4<f32>(unpack4xI8(w_data[at + 4u])), x4) + dot(vec4<f32>(unpack4xI8(w_data[at + 5u])), x5)
      + dot(vec4<f32>(unpack4xI8(w_data[at + 6u])), x6) + dot(vec4<f32>(unpack4xI8(w_data[at + 7u])), x7);
    return q * weight_block_scale(block_index);
  } else if (WEIGHT_FORMAT == FORMAT_Q4_0) {
    // word k: low nibbles are values 4k..4k+3, high nibbles values 16+4k..16+4k+3 (GGUF order)
    let block_index = row * BLOCKS_PER_ROW + b;
    let at = block_index * 4u;
    let w0 = vec4<u32>(w_data[at]) >> vec4<u32>(0u, 8u, 16u, 24u);
    let w1 = vec4<u32>(w_data[at + 1u]) >> vec4<u32>(0u, 8u, 16u, 24u);
    let w2 = vec4<u32>(w_data[at + 2u]) >> vec4<u32>(0u, 8u, 16u, 24u);
    let w3 = vec4<u32>(w_data[at + 3u]) >> vec4<u32>(0u, 8u, 16u, 24u);
    let low = vec4<u32>(15u);
    let q = dot(vec4<f32>(w0 & low) - 8.0, x0) + dot(vec4<f32>(w1 & low) - 8.0, x1)
      + dot(vec4<f32>(w2 & low) - 8.0, x2) + dot(vec4<f32>(w3 & low) - 8.0, x3)
      + dot(vec4<f32>((w0 >> vec4<u32>(4u)) & low) - 8.0, x4) + dot(vec4<f32>((w1 >> vec4<u32>(4u)) & low) - 8.0, x5)
      + dot(vec4<f32>((w2 >> vec4<u32>(4u)) & low) - 8.0, x6) + dot(vec4<f32>((w3 >> vec4<u32>(4u)) & low) - 8.0, x7);
    return q * weight_block_scale(block_index);
  } else if (WEIGHT_FORMAT == FORMAT_F32) {
    let at = row * COLS + b * 32u;
    return dot(f32x4_at(at), x0) + dot(f32x4_at(at + 4u), x1) + dot(f32x4_at(at + 8u), x2) + dot(f32x4_at(at + 12u), x3)
      + dot(f32x4_at(at + 16u), x4) + dot(f32x4_at(at + 20u), x5) + dot(f32x4_at(at + 24u), x6) + dot(f32x4_at(at + 28u), x7);
  } else if (WEIGHT_FORMAT == FORMAT_F16) {
    let at = (row * COLS + b * 32u) / 2u;
    return dot(f16x4_at(at), x0) + dot(f16x4_at(at + 2u), x1) + dot(f16x4_at(at + 4u), x2) + dot(f16x4_at(at + 6u), x3)
      + dot(f16x4_at(at + 8u), x4) + dot(f16x4_at(at + 10u), x5) + dot(f16x4_at(at + 12u), x6) + dot(f16x4_at(at + 14u), x7);
  } else {
    let w = load_weight_block(row, b);
    return dot(w[0], x0) + dot(w[1], x1) + dot(w[2], x2) + dot(w[3], x3) + dot(w[4], x4) + dot(w[5], x5) + dot(w[6], x6) + dot(w[7], x7);
  }
}

/// Four f32 weights from word `at` on.
fn f32x4_at(at: u32) -> vec4<f32> {
  return bitcast<vec4<f32>>(vec4<u32>(w_data[at], w_data[at + 1u], w_data[at + 2u], w_data[at + 3u]));
}

/// Four f16 weights from word `at` on (two per word, the even column low).
fn f16x4_at(at: u32) -> vec4<f32> {
  return vec4<f32>(unpack2x16float(w_data[at]), unpack2x16float(w_data[at + 1u]));
}

/// Rows r0 … r0+3 of block b against x0..x7 (rows past the chunk repeat its last row; never stored).
fn four_rows(r0: u32, b: u32, x0: vec4<f32>, x1: vec4<f32>, x2: vec4<f32>, x3: vec4<f32>, x4: vec4<f32>, x5: vec4<f32>, x6: vec4<f32>, x7: vec4<f32>) -> vec4<f32> {
  let last = params.rows - 1u;
  return vec4<f32>(
    block_dot_x(min(r0, last), b, x0, x1, x2, x3, x4, x5, x6, x7),
    block_dot_x(min(r0 + 1u, last), b, x0, x1, x2, x3, x4, x5, x6, x7),
    block_dot_x(min(r0 + 2u, last), b, x0, x1, x2, x3, x4, x5, x6, x7),
    block_dot_x(min(r0 + 3u, last), b, x0, x1, x2, x3, x4, x5, x6, x7),
  );
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(
  @builtin(global_invocation_id) gid: vec3<u32>,
  @builtin(local_invocation_index) lane: u32,
) {
  let t = 0u; // TOKEN_TILE = 1: token 0 of this step (or its logit row 0)
  let n = select(step.num_tokens, step.num_logit_rows, X_ROWS_ARE_LOGIT_ROWS);
  if (n == 0u) {
    return; // uniform across the workgroup
  }
  let scale = norm_prologue(lane, t, n)[0];
  let r0 = gid.x * ROWS_PER_INVOCATION;
  if (r0 >= params.rows) {
    return;
  }
  var first = vec4<f32>();
  var second = vec4<f32>(); // rows r0+4 … r0+7 when ROWS_PER_INVOCATION is 8
  for (var b = 0u; b < BLOCKS_PER_ROW; b++) {
    let v = b * 8u;
    let x0 = x_vec4(0u, t, v, scale);
    let x1 = x_vec4(0u, t, v + 1u, scale);
    let x2 = x_vec4(0u, t, v + 2u, scale);
    let x3 = x_vec4(0u, t, v + 3u, scale);
    let x4 = x_vec4(0u, t, v + 4u, scale);
    let x5 = x_vec4(0u, t, v + 5u, scale);
    let x6 = x_vec4(0u, t, v + 6u, scale);
    let x7 = x_vec4(0u, t, v + 7u, scale);
    first += four_rows(r0, b, x0, x1, x2, x3, x4, x5, x6, x7);
    if (ROWS_PER_INVOCATION == 8u) {
      second += four_rows(r0 + 4u, b, x0, x1, x2, x3, x4, x5, x6, x7);
    }
  }
  for (var r = 0u; r < ROWS_PER_INVOCATION; r++) {
    if (r0 + r < params.rows) {
      store_output(t, r0 + r, select(second[r & 3u], first[r & 3u], r < 4u));
    }
  }
}
