// Matrix × activations for GPUs: lanes of a workgroup cooperate on each row, so neighbouring invocations read
// neighbouring weight blocks (coalesced), where matmul.wgsl's one-row-per-invocation reads weights a row apart.
// The wrapper includes weights.wgsl, activation.wgsl and matmul_norm.wgsl; the same options as matmul.wgsl.
//
//   y[t, ROW_OFFSET + r] (+)= Σ_c W[r, c] · x[t, c]       W: [rows of this chunk, COLS]   x: [n, COLS]
//
// A workgroup owns ROWS_PER_WORKGROUP rows and TOKEN_TILE tokens; LANES_PER_ROW = WORKGROUP_SIZE / ROWS_PER_WORKGROUP
// lanes share a row: lane j takes weight blocks j, j + LANES_PER_ROW, … and the lanes' sums are added by a tree
// in workgroup memory. Sums are added in another order than matmul.wgsl's, so results differ from it by rounding.

// The bindings (as matmul.wgsl's) come from matmul_norm.wgsl.

const LANES_PER_ROW: u32 = WORKGROUP_SIZE / ROWS_PER_WORKGROUP;

var<workgroup> lane_sums: array<array<f32, WORKGROUP_SIZE>, TOKEN_TILE>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lane: u32) {
  let n = input_rows();
  let first_token = wid.y * TOKEN_TILE;
  if (first_token >= n) {
    return; // uniform across the workgroup
  }
  let scale = norm_prologue(lane, first_token, n);
  let j = lane % LANES_PER_ROW;
  let row = wid.x * ROWS_PER_WORKGROUP + lane / LANES_PER_ROW;
  var acc: array<f32, TOKEN_TILE>;
  if (row < params.rows) {
    for (var b = j; b < BLOCKS_PER_ROW; b += LANES_PER_ROW) {
      let w = load_weight_block(row, b);
      for (var tt = 0u; tt < TOKEN_TILE; tt++) {
        let t = min(first_token + tt, n - 1u); // tail tokens re-read the last row; never written
        acc[tt] += block_dot(w, tt, t, b, scale[tt]);
      }
    }
  }
  for (var tt = 0u; tt < TOKEN_TILE; tt++) {
    lane_sums[tt][lane] = acc[tt];
  }
  workgroupBarrier();
  for (var width = LANES_PER_ROW / 2u; width > 0u; width /= 2u) {
    if (j < width) {
      for (var tt = 0u; tt < TOKEN_TILE; tt++) {
        lane_sums[tt][lane] += lane_sums[tt][lane + width];
      }
    }
    workgroupBarrier();
  }
  if (j != 0u || row >= params.rows) {
    return;
  }
  for (var tt = 0u; tt < TOKEN_TILE; tt++) {
    let t = first_token + tt;
    if (t < n) {
      store_output(t, row, lane_sums[tt][lane]);
    }
  }
}
