// Matrix × activations with the weights dequantized on the fly (include weights.wgsl first).
//
//   y[t, ROW_OFFSET + r] (+)= Σ_c W[r, c] · x[t, c]       W: [rows of this chunk, COLS]   x: [n, COLS]
//
// One invocation owns one weight row and TOKEN_TILE tokens: the row is dequantized once per block and
// reused for every token of the tile (TOKEN_TILE = 1 for decode, more for prefill). Rows of a tensor
// larger than one binding arrive in chunks; each chunk is its own dispatch with its own ROW_OFFSET.
// n is the step's token count, or its logit-row count for the output head (X_ROWS_ARE_LOGIT_ROWS).

struct MatmulParams {
  rows: u32,        // rows in this chunk
  row_offset: u32,  // first output column written by this chunk
  y_stride: u32,    // floats per token in y
  _pad: u32,
}

@group(0) @binding(0) var<uniform> step: Step;
@group(0) @binding(1) var<uniform> params: MatmulParams;
@group(0) @binding(2) var<storage, read> w_data: array<u32>;
@group(0) @binding(3) var<storage, read> w_scales: array<u32>;
@group(0) @binding(4) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let row = gid.x;
  let n = select(step.num_tokens, step.num_logit_rows, X_ROWS_ARE_LOGIT_ROWS);
  let first_token = gid.y * TOKEN_TILE;
  if (row >= params.rows || first_token >= n) {
    return;
  }
  var acc: array<f32, TOKEN_TILE>;
  for (var b = 0u; b < BLOCKS_PER_ROW; b++) {
    let w = load_weight_block(row, b);
    for (var tt = 0u; tt < TOKEN_TILE; tt++) {
      let t = min(first_token + tt, n - 1u); // tail tokens re-read the last row; never written
      let x_base = t * (COLS / 4u) + b * BLOCK_VEC4;
      var sum = 0.0;
      for (var j = 0u; j < BLOCK_VEC4; j++) {
        sum += dot(w[j], x[x_base + j]);
      }
      acc[tt] += sum;
    }
  }
  for (var tt = 0u; tt < TOKEN_TILE; tt++) {
    let t = first_token + tt;
    if (t < n) {
      let at = t * params.y_stride + params.row_offset + row;
      if (ACCUMULATE) {
        y[at] += acc[tt];
      } else {
        y[at] = acc[tt];
      }
    }
  }
}
