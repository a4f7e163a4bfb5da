// Matrix × activations with the weights dequantized on the fly (the wrapper includes weights.wgsl,
// activation.wgsl and matmul_norm.wgsl). The row-per-invocation variant: SwiftShader's (a CPU thread runs whole
// invocations; no barrier in the loop); matmul_coop.wgsl is the variant for GPUs.
//
//   y[t, ROW_OFFSET + r] (+)= Σ_c W[r, c] · x[t, c]       W: [rows of this chunk, COLS]   x: [n, COLS]
//
// One invocation owns one weight row and TOKEN_TILE tokens: the row is dequantized once per block and
// reused for every token of the tile (TOKEN_TILE = 1 for decode, more for prefill). Rows of a tensor
// larger than one binding arrive in chunks; each chunk is its own dispatch with its own ROW_OFFSET.
// n is the step's token count, or its logit-row count for the output head (params.x_rows_are_logit_rows).
//
// Fused prologue and epilogue (each saves a dispatch and a pass over an activation buffer; the epilogue is the
// uniform params.epilogue, the prologue a constant):
//   NORM_INPUT  x is the residual stream and the matmul reads rmsnorm(x)·g instead: the workgroup computes
//               each token's 1/rms, summing squares in rmsnorm.wgsl's exact order (NORM_LANES lane partials,
//               then the same tree), so the normalized values are bit-identical to its output.
//   EPILOGUE_GLU  y holds the gate projection; y[t, r] = act(y[t, r]) · (W·x)[t, r] (the up projection), the
//               very expression of glu.wgsl.

// The bindings, norm_prologue, block_dot and store_output come from matmul_norm.wgsl (module-scope order does not
// matter in WGSL).

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(
  @builtin(global_invocation_id) gid: vec3<u32>,
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(local_invocation_index) lane: u32,
) {
  let row = gid.x;
  let n = input_rows();
  let first_token = wid.y * TOKEN_TILE;
  if (first_token >= n) {
    return; // uniform across the workgroup
  }
  let scale = norm_prologue(lane, first_token, n);
  if (row >= params.rows) {
    return;
  }
  var acc: array<f32, TOKEN_TILE>;
  for (var b = 0u; b < BLOCKS_PER_ROW; b++) {
    let w = load_weight_block(row, b);
    for (var tt = 0u; tt < TOKEN_TILE; tt++) {
      let t = min(first_token + tt, n - 1u); // tail tokens re-read the last row; never written
      acc[tt] += block_dot(w, tt, t, b, scale[tt]);
    }
  }
  for (var tt = 0u; tt < TOKEN_TILE; tt++) {
    let t = first_token + tt;
    if (t < n) {
      store_output(t, row, acc[tt]);
    }
  }
}
