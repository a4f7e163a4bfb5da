// Matrix × activations for CPU adapters (SwiftShader): each invocation owns ROWS_PER_INVOCATION (4 or 8)
// consecutive weight rows and TOKEN_TILE (1 or 4) tokens. The wrapper includes weights.wgsl, activation.wgsl and
// matmul_norm.wgsl, with the same options as matmul.wgsl, for rows of whole 32-value blocks (float formats: any
// multiple of 4).
//
//   y[t, ROW_OFFSET + r] (+)= Σ_c W[r, c] · x[t, c]       W: [rows of this chunk, COLS]   x: [n, COLS]
//
// Why: on SwiftShader every storage load is a per-lane gather, and a private array indexed in a loop lives in
// memory, so matmul.wgsl (the block dequantized into an array, x re-read for every row) costs several loads per
// weight. Here a block travels as a Block8 — eight vec4s in named fields, which stay in registers — so a block's
// x is loaded once for all the invocation's rows, and each row's weights once for all its tokens; F32, F16, BF16,
// Q8_0 and Q4_0 blocks are read word by word (other formats through load_weight_block). Quantized blocks are scaled
// after their dot product, (Σ q·x)·d, not per value: results differ from matmul.wgsl by rounding.
// bench/swiftshader-profile.ts measures the kernels side by side.

// The bindings (as matmul.wgsl's) come from matmul_norm.wgsl.

// A row is FULL_BLOCKS blocks of 32 values, then (float formats, whose rows need not be whole blocks) TAIL_VEC4
// vec4s more; COLS is a multiple of 4.
const FULL_BLOCKS: u32 = COLS / 32u;
const TAIL_VEC4: u32 = (COLS % 32u) / 4u;

/// 32 values as eight vec4s, times `scale` (a quantized block's d; 1 otherwise).
struct Block8 {
  v0: vec4<f32>, v1: vec4<f32>, v2: vec4<f32>, v3: vec4<f32>,
  v4: vec4<f32>, v5: vec4<f32>, v6: vec4<f32>, v7: vec4<f32>,
  scale: f32,
}

fn dot8(w: Block8, x8: Block8) -> f32 {
  return (dot(w.v0, x8.v0) + dot(w.v1, x8.v1) + dot(w.v2, x8.v2) + dot(w.v3, x8.v3)
    + dot(w.v4, x8.v4) + dot(w.v5, x8.v5) + dot(w.v6, x8.v6) + dot(w.v7, x8.v7)) * w.scale;
}

fn q8x4(word: u32) -> vec4<f32> {
  return vec4<f32>(unpack4xI8(word));
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

/// Block b of weight row `row`.
fn weight_block8(row: u32, b: u32) -> Block8 {
  if (WEIGHT_FORMAT == FORMAT_Q8_0) {
    let block_index = row * BLOCKS_PER_ROW + b;
    let at = block_index * 8u;
    return Block8(q8x4(w_data[at]), q8x4(w_data[at + 1u]), q8x4(w_data[at + 2u]), q8x4(w_data[at + 3u]),
      q8x4(w_data[at + 4u]), q8x4(w_data[at + 5u]), q8x4(w_data[at + 6u]), q8x4(w_data[at + 7u]), weight_block_scale(block_index));
  } else if (WEIGHT_FORMAT == FORMAT_Q4_0) {
    // word k: low nibbles are values 4k..4k+3, high nibbles values 16+4k..16+4k+3 (GGUF order)
    let block_index = row * BLOCKS_PER_ROW + b;
    let at = block_index * 4u;
    let shifts = vec4<u32>(0u, 8u, 16u, 24u);
    let w0 = vec4<u32>(w_data[at]) >> shifts;
    let w1 = vec4<u32>(w_data[at + 1u]) >> shifts;
    let w2 = vec4<u32>(w_data[at + 2u]) >> shifts;
    let w3 = vec4<u32>(w_data[at + 3u]) >> shifts;
    let low = vec4<u32>(15u);
    let high = vec4<u32>(4u);
    return Block8(vec4<f32>(w0 & low) - 8.0, vec4<f32>(w1 & low) - 8.0, vec4<f32>(w2 & low) - 8.0, vec4<f32>(w3 & low) - 8.0,
      vec4<f32>((w0 >> high) & low) - 8.0, vec4<f32>((w1 >> high) & low) - 8.0, vec4<f32>((w2 >> high) & low) - 8.0,
      vec4<f32>((w3 >> high) & low) - 8.0, weight_block_scale(block_index));
  } else if (WEIGHT_FORMAT == FORMAT_F32) {
    let at = row * COLS + b * 32u;
    return Block8(f32x4_at(at), f32x4_at(at + 4u), f32x4_at(at + 8u), f32x4_at(at + 12u),
      f32x4_at(at + 16u), f32x4_at(at + 20u), f32x4_at(at + 24u), f32x4_at(at + 28u), 1.0);
  } else if (WEIGHT_FORMAT == FORMAT_F16) {
    let at = (row * COLS + b * 32u) / 2u;
    return Block8(f16x4_at(at), f16x4_at(at + 2u), f16x4_at(at + 4u), f16x4_at(at + 6u),
      f16x4_at(at + 8u), f16x4_at(at + 10u), f16x4_at(at + 12u), f16x4_at(at + 14u), 1.0);
  } else if (WEIGHT_FORMAT == FORMAT_BF16) {
    let at = (row * COLS + b * 32u) / 2u;
    return Block8(bf16x4_at(at), bf16x4_at(at + 2u), bf16x4_at(at + 4u), bf16x4_at(at + 6u),
      bf16x4_at(at + 8u), bf16x4_at(at + 10u), bf16x4_at(at + 12u), bf16x4_at(at + 14u), 1.0);
  }
  // The other formats (all quantized: 8 vec4s a block; the indices below stay valid when a float row's BLOCK_VEC4 is 1)
  let w = load_weight_block(row, b);
  return Block8(w[0], w[1u % BLOCK_VEC4], w[2u % BLOCK_VEC4], w[3u % BLOCK_VEC4], w[4u % BLOCK_VEC4], w[5u % BLOCK_VEC4],
    w[6u % BLOCK_VEC4], w[7u % BLOCK_VEC4], 1.0);
}

/// Block b of token t's input (tile slot tt): staged, normed with `scale`, or raw (matmul_norm.wgsl's x_vec4).
fn x_block8(tt: u32, t: u32, b: u32, scale: f32) -> Block8 {
  let v = b * 8u;
  return Block8(x_vec4(tt, t, v, scale), x_vec4(tt, t, v + 1u, scale), x_vec4(tt, t, v + 2u, scale), x_vec4(tt, t, v + 3u, scale),
    x_vec4(tt, t, v + 4u, scale), x_vec4(tt, t, v + 5u, scale), x_vec4(tt, t, v + 6u, scale), x_vec4(tt, t, v + 7u, scale), 1.0);
}

/// One token: rows r0 … r0+3 of block b (rows past the chunk repeat its last row; never stored).
fn four_rows(r0: u32, b: u32, x8: Block8) -> vec4<f32> {
  let last = params.rows - 1u;
  return vec4<f32>(dot8(weight_block8(min(r0, last), b), x8), dot8(weight_block8(min(r0 + 1u, last), b), x8),
    dot8(weight_block8(min(r0 + 2u, last), b), x8), dot8(weight_block8(min(r0 + 3u, last), b), x8));
}

/// One token: rows r0 … r0+3 at vec4 v of the row tail.
fn four_rows_tail(r0: u32, v: u32, xv: vec4<f32>) -> vec4<f32> {
  let last = params.rows - 1u;
  let c = FULL_BLOCKS * 32u + v * 4u;
  return vec4<f32>(dot(weight_vec4(min(r0, last), c), xv), dot(weight_vec4(min(r0 + 1u, last), c), xv),
    dot(weight_vec4(min(r0 + 2u, last), c), xv), dot(weight_vec4(min(r0 + 3u, last), c), xv));
}

/// Four tokens: one row's vec4 against each token's.
fn four_tokens_tail(w: vec4<f32>, x0: vec4<f32>, x1: vec4<f32>, x2: vec4<f32>, x3: vec4<f32>) -> vec4<f32> {
  return vec4<f32>(dot(w, x0), dot(w, x1), dot(w, x2), dot(w, x3));
}

/// Four tokens: one row's block against each token's block.
fn four_tokens(w: Block8, x0: Block8, x1: Block8, x2: Block8, x3: Block8) -> vec4<f32> {
  return vec4<f32>(dot8(w, x0), dot8(w, x1), dot8(w, x2), dot8(w, x3));
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(
  @builtin(global_invocation_id) gid: vec3<u32>,
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(local_invocation_index) lane: u32,
) {
  let n = select(step.num_tokens, step.num_logit_rows, X_ROWS_ARE_LOGIT_ROWS);
  let first_token = wid.y * TOKEN_TILE;
  if (first_token >= n) {
    return; // uniform across the workgroup
  }
  let scale = norm_prologue(lane, first_token, n);
  let r0 = gid.x * ROWS_PER_INVOCATION;
  if (r0 >= params.rows) {
    return;
  }
  if (TOKEN_TILE == 1u) {
    var first = vec4<f32>(); // rows r0 … r0+3
    var second = vec4<f32>(); // rows r0+4 … r0+7 when ROWS_PER_INVOCATION is 8
    for (var b = 0u; b < FULL_BLOCKS; b++) {
      let x8 = x_block8(0u, first_token, b, scale[0]);
      first += four_rows(r0, b, x8);
      if (ROWS_PER_INVOCATION == 8u) {
        second += four_rows(r0 + 4u, b, x8);
      }
    }
    for (var v = 0u; v < TAIL_VEC4; v++) {
      let xv = x_vec4(0u, first_token, FULL_BLOCKS * 8u + v, scale[0]);
      first += four_rows_tail(r0, v, xv);
      if (ROWS_PER_INVOCATION == 8u) {
        second += four_rows_tail(r0 + 4u, v, xv);
      }
    }
    for (var r = 0u; r < ROWS_PER_INVOCATION; r++) {
      if (r0 + r < params.rows) {
        store_output(first_token, r0 + r, select(second[r & 3u], first[r & 3u], r < 4u));
      }
    }
  } else {
    // TOKEN_TILE = 4 and ROWS_PER_INVOCATION = 4: acc_r holds row r0+r for the tile's 4 tokens (tail tokens repeat
    // the last one; never stored).
    let last_row = params.rows - 1u;
    let t0 = first_token;
    let t1 = min(first_token + 1u, n - 1u);
    let t2 = min(first_token + 2u, n - 1u);
    let t3 = min(first_token + 3u, n - 1u);
    var acc0 = vec4<f32>();
    var acc1 = vec4<f32>();
    var acc2 = vec4<f32>();
    var acc3 = vec4<f32>();
    for (var b = 0u; b < FULL_BLOCKS; b++) {
      let x0 = x_block8(0u, t0, b, scale[0]);
      let x1 = x_block8(min(1u, TOKEN_TILE - 1u), t1, b, scale[min(1u, TOKEN_TILE - 1u)]);
      let x2 = x_block8(min(2u, TOKEN_TILE - 1u), t2, b, scale[min(2u, TOKEN_TILE - 1u)]);
      let x3 = x_block8(min(3u, TOKEN_TILE - 1u), t3, b, scale[min(3u, TOKEN_TILE - 1u)]);
      acc0 += four_tokens(weight_block8(r0, b), x0, x1, x2, x3);
      acc1 += four_tokens(weight_block8(min(r0 + 1u, last_row), b), x0, x1, x2, x3);
      acc2 += four_tokens(weight_block8(min(r0 + 2u, last_row), b), x0, x1, x2, x3);
      acc3 += four_tokens(weight_block8(min(r0 + 3u, last_row), b), x0, x1, x2, x3);
    }
    for (var v = 0u; v < TAIL_VEC4; v++) {
      let at = FULL_BLOCKS * 8u + v;
      let c = at * 4u;
      let x0 = x_vec4(0u, t0, at, scale[0]);
      let x1 = x_vec4(min(1u, TOKEN_TILE - 1u), t1, at, scale[min(1u, TOKEN_TILE - 1u)]);
      let x2 = x_vec4(min(2u, TOKEN_TILE - 1u), t2, at, scale[min(2u, TOKEN_TILE - 1u)]);
      let x3 = x_vec4(min(3u, TOKEN_TILE - 1u), t3, at, scale[min(3u, TOKEN_TILE - 1u)]);
      acc0 += four_tokens_tail(weight_vec4(r0, c), x0, x1, x2, x3);
      acc1 += four_tokens_tail(weight_vec4(min(r0 + 1u, last_row), c), x0, x1, x2, x3);
      acc2 += four_tokens_tail(weight_vec4(min(r0 + 2u, last_row), c), x0, x1, x2, x3);
      acc3 += four_tokens_tail(weight_vec4(min(r0 + 3u, last_row), c), x0, x1, x2, x3);
    }
    let rows = array<vec4<f32>, 4>(acc0, acc1, acc2, acc3);
    for (var r = 0u; r < 4u; r++) {
      for (var tt = 0u; tt < 4u; tt++) {
        if (r0 + r < params.rows && first_token + tt < n) {
          store_output(first_token + tt, r0 + r, rows[r][tt]);
        }
      }
    }
  }
}
