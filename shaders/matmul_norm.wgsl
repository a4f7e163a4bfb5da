// What the matmul kernels share (a library: their bindings, RMSNorm prologue, block dot product and output
// epilogue; matmul.wgsl, matmul_coop.wgsl and matmul_rows.wgsl include it).
// Lane l < NORM_LANES of the workgroup sums x[t, c]² over c ≡ l (mod NORM_LANES) — rmsnorm.wgsl's lane partials —
// and every invocation then reduces them with rmsnorm.wgsl's tree, so 1/rms is bit-identical to rmsnorm.wgsl's
// (needs WORKGROUP_SIZE ≥ NORM_LANES). Kernel shape:  store_norm_partials(…); workgroupBarrier(); then either
// inverse_rms(tt) per token and x·scale·g in the dot products, or with NORM_STAGED (when the tile fits in
// workgroup memory) stage_normed_x(…); workgroupBarrier() and the dot products read x_normed — the same
// products x·scale·g computed once per workgroup instead of once per row.

struct MatmulParams {
  rows: u32,        // rows in this chunk
  row_offset: u32,  // first output column written by this chunk
  y_stride: u32,    // floats per token in y
  epilogue: u32,    // what store_output does: EPILOGUE_STORE … EPILOGUE_QKV
  q_rows: u32,      // EPILOGUE_QKV: rows of q, then kv_rows of k and of v, at these float offsets of y
  kv_rows: u32,
  y_q_base: u32,
  y_k_base: u32,
  y_v_base: u32,
  x_rows_are_logit_rows: u32, // 1: x holds the step's logit rows (the output head), n = their count
  texel_width_log2: u32, // W read as texels (shaders/weight_quants_texels.wgsl): log2 of the chunk's texture width
  _pad2: u32,
}

// The epilogue is a uniform, not a constant, so that the matmuls of one weight format and row length share one
// pipeline whatever they store: on SwiftShader each pipeline takes ~0.2–0.8 s to compile, and stories260K's load
// compiled 10 matmul pipelines where it now compiles 4 (bench/results/cold-start.md). store_output picks with
// selects, a few integer operations per stored value beside COLS multiply-adds.
const EPILOGUE_STORE: u32 = 0u;      // y[t, r] = (W·x)[t, r]
const EPILOGUE_ACCUMULATE: u32 = 1u; // y[t, r] += …   (residual connections)
const EPILOGUE_GLU: u32 = 2u;        // y holds the gate projection: y[t, r] = act(y[t, r]) · …
const EPILOGUE_GLU_PAIRED: u32 = 3u; // W is [Wgate; Wup] interleaved by row: y[t, i] = act(gate) · up
const EPILOGUE_QKV: u32 = 4u;        // W is [Wq; Wk; Wv]: each row stored to its q, k or v rows

@group(0) @binding(0) var<uniform> step: Step;
@group(0) @binding(1) var<uniform> params: MatmulParams;
@group(0) @binding(2) var<storage, read> w_data: array<u32>;
@group(0) @binding(3) var<storage, read> w_scales: array<u32>;
@group(0) @binding(4) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read_write> y: array<f32>;
@group(0) @binding(6) var<storage, read> norm_g: array<vec4<f32>>; // NORM_INPUT: the norm's weight [COLS]

/// Rows of the bound weight chunk (weights.wgsl's split_block_index).
fn weight_rows() -> u32 {
  return params.rows;
}

fn weight_texel_width_log2() -> u32 {
  return params.texel_width_log2;
}

/// The tokens (rows of x) this matmul multiplies: the step's tokens, or its logit rows for the output head.
fn input_rows() -> u32 {
  return select(step.num_tokens, step.num_logit_rows, params.x_rows_are_logit_rows != 0u);
}

/// x[t, c] as a scalar.
fn x_at(t: u32, c: u32) -> f32 {
  let i = t * COLS + c;
  return x[i >> 2u][i & 3u];
}

var<workgroup> norm_partials: array<array<f32, NORM_LANES>, TOKEN_TILE>;
var<workgroup> x_normed: array<array<vec4<f32>, select(1u, COLS / 4u, NORM_STAGED)>, TOKEN_TILE>;

/// Σ x[t, c]² over the columns c ≡ lane (mod NORM_LANES): one lane's partial, in rmsnorm.wgsl's order.
fn lane_partial(t: u32, lane: u32) -> f32 {
  var sum = 0.0;
  for (var c = lane; c < COLS; c += NORM_LANES) {
    let v = x_at(t, c);
    sum += v * v;
  }
  return sum;
}

/// 1 / sqrt(mean(x[t, :]²) + EPS) from a token's lane partials, added by rmsnorm.wgsl's tree.
fn rms_from_partials(partials: array<f32, NORM_LANES>) -> f32 {
  var partial = partials;
  for (var width = NORM_LANES / 2u; width > 0u; width /= 2u) {
    for (var lane = 0u; lane < width; lane++) {
      partial[lane] += partial[lane + width];
    }
  }
  return 1.0 / sqrt(partial[0] / f32(COLS) + EPS);
}

/// Lane partials of the tile's tokens (tail tokens repeat the last one); a workgroup with fewer than NORM_LANES
/// lanes has each take several.
fn store_norm_partials(lane: u32, first_token: u32, n: u32) {
  for (var l = lane; l < NORM_LANES; l += WORKGROUP_SIZE) {
    for (var tt = 0u; tt < TOKEN_TILE; tt++) {
      norm_partials[tt][l] = lane_partial(min(first_token + tt, n - 1u), l);
    }
  }
}

/// 1 / sqrt(mean(x[t, :]²) + EPS) of token tt of the tile, from the lane partials.
fn inverse_rms(tt: u32) -> f32 {
  return rms_from_partials(norm_partials[tt]);
}

/// x_normed[tt] = x[t, :]·(1/rms)·g for the tile's tokens, the lanes sharing the columns (after the partials' barrier).
fn stage_normed_x(lane: u32, first_token: u32, n: u32) {
  for (var tt = 0u; tt < TOKEN_TILE; tt++) {
    let t = min(first_token + tt, n - 1u);
    let scale = inverse_rms(tt);
    for (var v = lane; v < COLS / 4u; v += WORKGROUP_SIZE) {
      x_normed[tt][v] = x[t * (COLS / 4u) + v] * scale * norm_g[v];
    }
  }
}

/// 1/rms of token t by one invocation alone: the NORM_LANES partials in turn, then the same tree — the same sums
/// in the same order as the lanes', so the same bits, with no workgroup memory and no barrier.
fn own_inverse_rms(t: u32) -> f32 {
  var partials: array<f32, NORM_LANES>;
  for (var lane = 0u; lane < NORM_LANES; lane++) {
    partials[lane] = lane_partial(t, lane);
  }
  return rms_from_partials(partials);
}

/// The kernels' prologue (call it where every invocation does): with NORM_INPUT, the partials, then either the
/// staged tile or each token's 1/rms (returned; unused otherwise). With NORM_PER_INVOCATION every invocation
/// computes its tokens' 1/rms itself (for adapters where a barrier costs more than re-reading x: SwiftShader).
fn norm_prologue(lane: u32, first_token: u32, n: u32) -> array<f32, TOKEN_TILE> {
  var scale: array<f32, TOKEN_TILE>;
  if (NORM_INPUT && NORM_PER_INVOCATION) {
    for (var tt = 0u; tt < TOKEN_TILE; tt++) {
      scale[tt] = own_inverse_rms(min(first_token + tt, n - 1u));
    }
  } else if (NORM_INPUT) {
    store_norm_partials(lane, first_token, n);
    workgroupBarrier();
    if (NORM_STAGED) {
      stage_normed_x(lane, first_token, n);
      workgroupBarrier();
    } else {
      for (var tt = 0u; tt < TOKEN_TILE; tt++) {
        scale[tt] = inverse_rms(tt);
      }
    }
  }
  return scale;
}

/// Input vec4 v of token t (tile slot tt): staged, normed on the fly with `scale`, or raw.
fn x_vec4(tt: u32, t: u32, v: u32, scale: f32) -> vec4<f32> {
  if (NORM_STAGED) {
    return x_normed[tt][v];
  } else if (NORM_INPUT) {
    return x[t * (COLS / 4u) + v] * scale * norm_g[v];
  }
  return x[t * (COLS / 4u) + v];
}

/// Weight block b of one row · the input of token t (tile slot tt).
fn block_dot(w: array<vec4<f32>, BLOCK_VEC4>, tt: u32, t: u32, b: u32, scale: f32) -> f32 {
  var sum = 0.0;
  for (var k = 0u; k < BLOCK_VEC4; k++) {
    sum += dot(w[k], x_vec4(tt, t, b * BLOCK_VEC4 + k, scale));
  }
  return sum;
}

/// The epilogue: the row's value stored, added to y, or through the GLU, at the row's place in y for token t:
///   y[t, row_offset + row] (y_stride floats per token); with EPILOGUE_QKV (the q, k and v projections as one matrix
///   [Wq; Wk; Wv]) rows [0, q_rows) at y[y_q_base + t·q_rows + r], then kv_rows rows each at y[y_k_base + t·kv_rows
///   + …] and y[y_v_base + …]; with EPILOGUE_GLU_PAIRED (W is [Wgate; Wup] interleaved by row: row 2i is gate row i,
///   row 2i+1 up row i) y[t, i] = gate, then y[t, i] = act(gate)·up — the kernel stores a pair's gate before its up
///   (the rows kernel: both in one invocation, in row order; chunks start at multiples of 4 rows).
/// Written with selects, not branches: kernels inline it at every stored value (16 in a 4 × 4 tile), and branches
/// there multiplied SwiftShader's compile time by ~2.5.
fn store_output(t: u32, row: u32, value: f32) {
  let epilogue = params.epilogue;
  let r = params.row_offset + row;
  let q_rows = params.q_rows;
  let kv_rows = params.kv_rows;
  let qkv_at = select(select(params.y_v_base + t * kv_rows + (r - q_rows - kv_rows), params.y_k_base + t * kv_rows + (r - q_rows),
    r < q_rows + kv_rows), params.y_q_base + t * q_rows + r, r < q_rows);
  let paired = epilogue == EPILOGUE_GLU_PAIRED;
  let at = select(select(t * params.y_stride + r, qkv_at, epilogue == EPILOGUE_QKV), t * params.y_stride + (r >> 1u), paired);
  let old = y[at];
  let gated = epilogue == EPILOGUE_GLU || (paired && (r & 1u) == 1u);
  y[at] = select(select(value, old + value, epilogue == EPILOGUE_ACCUMULATE), glu(old, value), gated);
}
