// Matrix × activations for CPU adapters (SwiftShader): each invocation owns ROWS_PER_INVOCATION (4 or 8)
// consecutive weight rows and TOKEN_TILE (1 or 4) tokens. The wrapper includes weights.wgsl, activation.wgsl,
// matmul_norm.wgsl and weights_block8.wgsl, with the same options as matmul.wgsl, for rows of whole 32-value blocks
// (float formats: any multiple of 4).
//
//   y[t, ROW_OFFSET + r] (+)= Σ_c W[r, c] · x[t, c]       W: [rows of this chunk, COLS]   x: [n, COLS]
//
// Why: on SwiftShader every storage load is a per-lane gather, and a private array indexed in a loop lives in
// memory, so matmul.wgsl (the block dequantized into an array, x re-read for every row) costs several loads per
// weight. Here blocks travel as weights_block8.wgsl's Block8s, in registers, so a block's x is loaded once for all
// the invocation's rows, and each row's weights once for all its tokens. Results differ from matmul.wgsl by
// rounding. bench/swiftshader-profile.ts measures the kernels side by side.

// The bindings (as matmul.wgsl's) come from matmul_norm.wgsl. With INT8_X (Q8_0 and Q4_0 weights), x holds the
// input as int8 blocks (shaders/quantize_x.wgsl) and blocks are multiplied by weights_int8.wgsl's int8_dot or,
// with BYTES_IN_PLACE, unpacked to f32 once for the invocation's rows (x_int8_placed) and multiplied as the f32
// input is: the same result, bit for bit.

/// One token: rows r0 … r0+3 of block b (rows past the chunk repeat its last row; never stored).
fn four_rows(r0: u32, b: u32, x8: Block8) -> vec4<f32> {
  let last = params.rows - 1u;
  return vec4<f32>(dot8(weight_block8(min(r0, last), b), x8), dot8(weight_block8(min(r0 + 1u, last), b), x8),
    dot8(weight_block8(min(r0 + 2u, last), b), x8), dot8(weight_block8(min(r0 + 3u, last), b), x8));
}

/// With 8 rows an invocation over a matrix in row groups of 8 (Q8_0, Q4_0: weights.wgsl split_block_index), an
/// invocation's rows are one group, and block b of its rows are 8 blocks side by side: when the group is whole, their
/// 8 f16 scales are 4 consecutive words of w_scales, loaded once for the 8 rows instead of a load a row (on
/// SwiftShader each a gather lane by lane). The same scales, so the same bits.
const GROUP_SCALES: bool = ROWS_PER_INVOCATION == 8u && ROW_GROUP == 8u && (WEIGHT_FORMAT == FORMAT_Q8_0 || WEIGHT_FORMAT == FORMAT_Q4_0);

struct Rows8 {
  first: vec4<f32>, // rows r0 … r0+3
  second: vec4<f32>, // rows r0+4 … r0+7
}

/// One token: the whole row group r0 … r0+7 (GROUP_SCALES) at block b.
fn grouped_rows(r0: u32, b: u32, x8: Block8) -> Rows8 {
  let first_block = r0 * BLOCKS_PER_ROW + b * 8u; // split_block_index(r0 + j, b) = first_block + j
  let at = first_block >> 1u; // first_block is a multiple of 8
  let s01 = unpack2x16float(w_scales[at]);
  let s23 = unpack2x16float(w_scales[at + 1u]);
  let s45 = unpack2x16float(w_scales[at + 2u]);
  let s67 = unpack2x16float(w_scales[at + 3u]);
  return Rows8(
    vec4<f32>(dot8(split_block8(first_block, s01.x), x8), dot8(split_block8(first_block + 1u, s01.y), x8),
      dot8(split_block8(first_block + 2u, s23.x), x8), dot8(split_block8(first_block + 3u, s23.y), x8)),
    vec4<f32>(dot8(split_block8(first_block + 4u, s45.x), x8), dot8(split_block8(first_block + 5u, s45.y), x8),
      dot8(split_block8(first_block + 6u, s67.x), x8), dot8(split_block8(first_block + 7u, s67.y), x8)));
}

/// One token, int8 input: rows r0 … r0+3 of block b (rows past the chunk repeat its last row; never stored).
fn four_rows_int8(r0: u32, b: u32, xb: XInt8) -> vec4<f32> {
  let last = params.rows - 1u;
  return vec4<f32>(int8_dot(weight_int8_block(min(r0, last), b), xb), int8_dot(weight_int8_block(min(r0 + 1u, last), b), xb),
    int8_dot(weight_int8_block(min(r0 + 2u, last), b), xb), int8_dot(weight_int8_block(min(r0 + 3u, last), b), xb));
}

/// Four tokens, int8 input: one row's block against each token's.
fn four_tokens_int8(w: WInt8, x0: XInt8, x1: XInt8, x2: XInt8, x3: XInt8) -> vec4<f32> {
  return vec4<f32>(int8_dot(w, x0), int8_dot(w, x1), int8_dot(w, x2), int8_dot(w, x3));
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

/// Block b of token t (tile slot tt) for four_tokens: the f32 input's, or with INT8_X (weights in place) the int8
/// block's q, whose d tile_x_scale gives (1 for the f32 input).
fn tile_x_block8(tt: u32, t: u32, b: u32, scale: f32) -> Block8 {
  if (INT8_X) {
    return x_int8_placed(x_int8_block(t, b));
  }
  return x_block8(tt, t, b, scale);
}

fn tile_x_scale(t: u32, b: u32) -> f32 {
  if (INT8_X) {
    return x_int8_block(t, b).scale;
  }
  return 1.0;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(
  @builtin(global_invocation_id) gid: vec3<u32>,
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(local_invocation_index) lane: u32,
) {
  let n = input_rows();
  let first_token = wid.y * TOKEN_TILE;
  if (first_token >= n) {
    return; // uniform across the workgroup
  }
  let scale = norm_prologue(lane, first_token, n);
  let r0 = gid.x * ROWS_PER_INVOCATION;
  if (r0 >= params.rows) {
    return;
  }
  if (TOKEN_TILE == 1u && GROUP_SCALES && (IN_PLACE || !INT8_X) && r0 + 8u <= params.rows) {
    // a whole row group (every invocation but a chunk's last, when its rows are not a multiple of 8)
    var rows8 = Rows8(vec4<f32>(), vec4<f32>());
    for (var b = 0u; b < FULL_BLOCKS; b++) {
      if (INT8_X) {
        let xb = x_int8_block(first_token, b);
        let block = grouped_rows(r0, b, x_int8_placed(xb));
        rows8.first += block.first * xb.scale;
        rows8.second += block.second * xb.scale;
      } else {
        let block = grouped_rows(r0, b, x_block8(0u, first_token, b, scale[0]));
        rows8.first += block.first;
        rows8.second += block.second;
      }
    }
    for (var r = 0u; r < 8u; r++) {
      store_output(first_token, r0 + r, select(rows8.second[r & 3u], rows8.first[r & 3u], r < 4u));
    }
  } else if (TOKEN_TILE == 1u) {
    var first = vec4<f32>(); // rows r0 … r0+3
    var second = vec4<f32>(); // rows r0+4 … r0+7 when ROWS_PER_INVOCATION is 8
    for (var b = 0u; b < FULL_BLOCKS; b++) {
      if (INT8_X && IN_PLACE) {
        let xb = x_int8_block(first_token, b);
        let x8 = x_int8_placed(xb);
        first += four_rows(r0, b, x8) * xb.scale;
        if (ROWS_PER_INVOCATION == 8u) {
          second += four_rows(r0 + 4u, b, x8) * xb.scale;
        }
      } else if (INT8_X) {
        let xb = x_int8_block(first_token, b);
        first += four_rows_int8(r0, b, xb);
        if (ROWS_PER_INVOCATION == 8u) {
          second += four_rows_int8(r0 + 4u, b, xb);
        }
      } else {
        let x8 = x_block8(0u, first_token, b, scale[0]);
        first += four_rows(r0, b, x8);
        if (ROWS_PER_INVOCATION == 8u) {
          second += four_rows(r0 + 4u, b, x8);
        }
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
    // TOKEN_TILE = 4: acc_r holds row r0+r for the tile's 4 tokens (tail tokens repeat the last one; never stored);
    // acc4 … acc7 with ROWS_PER_INVOCATION = 8. Each block of x is loaded once for all the invocation's rows (on
    // SwiftShader a gather per value, the same address in every lane), so 8 rows load x half as often per weight:
    // SwiftShader's prefill default (src/kernels/tuning.ts has the measurement).
    let last_row = params.rows - 1u;
    let t0 = first_token;
    let t1 = min(first_token + 1u, n - 1u);
    let t2 = min(first_token + 2u, n - 1u);
    let t3 = min(first_token + 3u, n - 1u);
    var acc0 = vec4<f32>();
    var acc1 = vec4<f32>();
    var acc2 = vec4<f32>();
    var acc3 = vec4<f32>();
    var acc4 = vec4<f32>();
    var acc5 = vec4<f32>();
    var acc6 = vec4<f32>();
    var acc7 = vec4<f32>();
    for (var b = 0u; b < FULL_BLOCKS; b++) {
      if (INT8_X && !IN_PLACE) {
        let x0 = x_int8_block(t0, b);
        let x1 = x_int8_block(t1, b);
        let x2 = x_int8_block(t2, b);
        let x3 = x_int8_block(t3, b);
        acc0 += four_tokens_int8(weight_int8_block(r0, b), x0, x1, x2, x3);
        acc1 += four_tokens_int8(weight_int8_block(min(r0 + 1u, last_row), b), x0, x1, x2, x3);
        acc2 += four_tokens_int8(weight_int8_block(min(r0 + 2u, last_row), b), x0, x1, x2, x3);
        acc3 += four_tokens_int8(weight_int8_block(min(r0 + 3u, last_row), b), x0, x1, x2, x3);
        if (ROWS_PER_INVOCATION == 8u) {
          acc4 += four_tokens_int8(weight_int8_block(min(r0 + 4u, last_row), b), x0, x1, x2, x3);
          acc5 += four_tokens_int8(weight_int8_block(min(r0 + 5u, last_row), b), x0, x1, x2, x3);
          acc6 += four_tokens_int8(weight_int8_block(min(r0 + 6u, last_row), b), x0, x1, x2, x3);
          acc7 += four_tokens_int8(weight_int8_block(min(r0 + 7u, last_row), b), x0, x1, x2, x3);
        }
        continue;
      }
      let x0 = tile_x_block8(0u, t0, b, scale[0]);
      let x1 = tile_x_block8(min(1u, TOKEN_TILE - 1u), t1, b, scale[min(1u, TOKEN_TILE - 1u)]);
      let x2 = tile_x_block8(min(2u, TOKEN_TILE - 1u), t2, b, scale[min(2u, TOKEN_TILE - 1u)]);
      let x3 = tile_x_block8(min(3u, TOKEN_TILE - 1u), t3, b, scale[min(3u, TOKEN_TILE - 1u)]);
      let d = vec4<f32>(tile_x_scale(t0, b), tile_x_scale(t1, b), tile_x_scale(t2, b), tile_x_scale(t3, b));
      acc0 += four_tokens(weight_block8(r0, b), x0, x1, x2, x3) * d;
      acc1 += four_tokens(weight_block8(min(r0 + 1u, last_row), b), x0, x1, x2, x3) * d;
      acc2 += four_tokens(weight_block8(min(r0 + 2u, last_row), b), x0, x1, x2, x3) * d;
      acc3 += four_tokens(weight_block8(min(r0 + 3u, last_row), b), x0, x1, x2, x3) * d;
      if (ROWS_PER_INVOCATION == 8u) {
        acc4 += four_tokens(weight_block8(min(r0 + 4u, last_row), b), x0, x1, x2, x3) * d;
        acc5 += four_tokens(weight_block8(min(r0 + 5u, last_row), b), x0, x1, x2, x3) * d;
        acc6 += four_tokens(weight_block8(min(r0 + 6u, last_row), b), x0, x1, x2, x3) * d;
        acc7 += four_tokens(weight_block8(min(r0 + 7u, last_row), b), x0, x1, x2, x3) * d;
      }
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
      if (ROWS_PER_INVOCATION == 8u) {
        acc4 += four_tokens_tail(weight_vec4(min(r0 + 4u, last_row), c), x0, x1, x2, x3);
        acc5 += four_tokens_tail(weight_vec4(min(r0 + 5u, last_row), c), x0, x1, x2, x3);
        acc6 += four_tokens_tail(weight_vec4(min(r0 + 6u, last_row), c), x0, x1, x2, x3);
        acc7 += four_tokens_tail(weight_vec4(min(r0 + 7u, last_row), c), x0, x1, x2, x3);
      }
    }
    let rows = array<vec4<f32>, 8>(acc0, acc1, acc2, acc3, acc4, acc5, acc6, acc7);
    for (var r = 0u; r < ROWS_PER_INVOCATION; r++) {
      for (var tt = 0u; tt < 4u; tt++) {
        if (r0 + r < params.rows && first_token + tt < n) {
          store_output(first_token + tt, r0 + r, rows[r][tt]);
        }
      }
    }
  }
}
