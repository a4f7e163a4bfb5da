// Matrix × matrix for prefill on GPUs: a workgroup computes a tile of TILE_ROWS output rows × TILE_TOKENS tokens,
// walking the row length one 32-value block at a time. Each step its lanes stage the tile's weight blocks
// (dequantized, times the block's scale) and the tile's input blocks (normed when the norm is folded in) in
// workgroup memory; after a barrier, each lane multiplies 4 rows by 4 tokens out of the staged tiles, so every
// weight read from memory serves TILE_TOKENS tokens and every input value TILE_ROWS rows. The wrapper includes
// weights.wgsl, activation.wgsl, matmul_norm.wgsl and weights_block8.wgsl, with the same options as matmul.wgsl
// (TOKEN_TILE = TILE_TOKENS), and WORKGROUP_SIZE = (TILE_ROWS / 4) · (TILE_TOKENS / 4).
//
//   y[t, ROW_OFFSET + r] (+)= Σ_c W[r, c] · x[t, c]       W: [rows of this chunk, COLS]   x: [n, COLS]
//
//   staged per step:  w_tile [TILE_ROWS][8 vec4]   x_tile [TILE_TOKENS][8 vec4]     (a float row's tail: one
//   step more, its TAIL_VEC4 vec4s and zeros)
//
// Lane ℓ owns rows 4·(ℓ mod ROW_GROUPS) … +3 and tokens 4·(ℓ / ROW_GROUPS) … +3 of the tile. Rows past the chunk
// and tokens past the step repeat its last one and are never stored. Quantized values are scaled before the dot
// product here (after it in the rows kernel): results differ from the other kernels by rounding.

// The bindings (as matmul.wgsl's) come from matmul_norm.wgsl.

const ROW_GROUPS: u32 = TILE_ROWS / 4u;
const STEPS: u32 = FULL_BLOCKS + select(0u, 1u, TAIL_VEC4 > 0u);

var<workgroup> w_tile: array<array<vec4<f32>, 8>, TILE_ROWS>;
var<workgroup> x_tile: array<array<vec4<f32>, 8>, TILE_TOKENS>;
var<workgroup> token_scale: array<f32, TILE_TOKENS>; // NORM_INPUT: 1/rms of the tile's tokens

/// The tile's weights for step s: lanes take the tile's rows in turn; each writes a row's block (or tail).
fn stage_weights(lane: u32, first_row: u32, s: u32) {
  for (var r = lane; r < TILE_ROWS; r += WORKGROUP_SIZE) {
    let row = min(first_row + r, params.rows - 1u);
    if (s < FULL_BLOCKS) {
      let w = weight_block8(row, s);
      w_tile[r] = array<vec4<f32>, 8>(w.v0 * w.scale, w.v1 * w.scale, w.v2 * w.scale, w.v3 * w.scale,
        w.v4 * w.scale, w.v5 * w.scale, w.v6 * w.scale, w.v7 * w.scale);
    } else {
      for (var k = 0u; k < 8u; k++) {
        w_tile[r][k] = select(vec4<f32>(), weight_vec4(row, (FULL_BLOCKS * 8u + min(k, max(TAIL_VEC4, 1u) - 1u)) * 4u), k < TAIL_VEC4);
      }
    }
  }
}

/// The tile's inputs for step s: lanes take the (token, vec4) pairs in turn.
fn stage_inputs(lane: u32, first_token: u32, n: u32, s: u32) {
  let width = select(8u, TAIL_VEC4, s == FULL_BLOCKS);
  for (var i = lane; i < TILE_TOKENS * 8u; i += WORKGROUP_SIZE) {
    let tt = i / 8u;
    let k = i % 8u;
    let t = min(first_token + tt, n - 1u);
    let scale = select(1.0, token_scale[tt], NORM_INPUT);
    x_tile[tt][k] = select(vec4<f32>(), x_vec4(tt, t, s * 8u + min(k, width - 1u), scale), k < width);
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lane: u32) {
  let n = input_rows();
  let first_token = wid.y * TILE_TOKENS;
  if (first_token >= n) {
    return; // uniform across the workgroup
  }
  if (NORM_INPUT) {
    // each token's 1/rms: alone, or from the lanes' partials in rmsnorm.wgsl's order
    if (!NORM_PER_INVOCATION) {
      store_norm_partials(lane, first_token, n);
      workgroupBarrier();
    }
    if (lane < TILE_TOKENS) {
      if (NORM_PER_INVOCATION) {
        token_scale[lane] = own_inverse_rms(min(first_token + lane, n - 1u));
      } else {
        token_scale[lane] = inverse_rms(lane);
      }
    }
    workgroupBarrier();
  }
  let first_row = wid.x * TILE_ROWS;
  let r0 = (lane % ROW_GROUPS) * 4u;
  let t0 = (lane / ROW_GROUPS) * 4u;
  // acc_r[k]: row r0 + r, token t0 + k
  var acc0 = vec4<f32>();
  var acc1 = vec4<f32>();
  var acc2 = vec4<f32>();
  var acc3 = vec4<f32>();
  for (var s = 0u; s < STEPS; s++) {
    stage_weights(lane, first_row, s);
    stage_inputs(lane, first_token, n, s);
    workgroupBarrier();
    for (var k = 0u; k < 8u; k++) {
      let x4 = mat4x4<f32>(x_tile[t0][k], x_tile[t0 + 1u][k], x_tile[t0 + 2u][k], x_tile[t0 + 3u][k]);
      acc0 += w_tile[r0][k] * x4;
      acc1 += w_tile[r0 + 1u][k] * x4;
      acc2 += w_tile[r0 + 2u][k] * x4;
      acc3 += w_tile[r0 + 3u][k] * x4;
    }
    workgroupBarrier();
  }
  let rows = array<vec4<f32>, 4>(acc0, acc1, acc2, acc3);
  for (var r = 0u; r < 4u; r++) {
    for (var k = 0u; k < 4u; k++) {
      let row = first_row + r0 + r;
      let t = first_token + t0 + k;
      if (row < params.rows && t < n) {
        store_output(t, row, rows[r][k]);
      }
    }
  }
}
