// Matrix × activations for GPUs with subgroups: LANES_PER_ROW neighbouring lanes of one subgroup share a row and
// add their sums with subgroupShuffleXor — no workgroup memory, no barrier. Lane j of a row reads weight blocks
// j, j + LANES_PER_ROW, …, so a row's lanes read neighbouring blocks (coalesced). The wrapper includes weights.wgsl,
// activation.wgsl, matmul_norm.wgsl and weights_block8.wgsl, with the same options as matmul.wgsl, and puts
// `enable subgroups;` first; it needs LANES_PER_ROW ≤ the adapter's smallest subgroup, a power of two.
//
//   y[t, ROW_OFFSET + r] (+)= Σ_c W[r, c] · x[t, c]       W: [rows of this chunk, COLS]   x: [n, COLS]
//
// Lanes are numbered by (subgroup_id, subgroup_invocation_id), not by local_invocation_index, so a row's lanes are
// consecutive ids of one subgroup whatever order the adapter packs invocations into subgroups. The shuffle tree
// adds the lanes' sums in another order than the other kernels: results differ from them by rounding.

// The bindings (as matmul.wgsl's) come from matmul_norm.wgsl.

const ROWS_PER_WORKGROUP: u32 = WORKGROUP_SIZE / LANES_PER_ROW;

/// Σ over this lane's share of the row: blocks j, j + LANES_PER_ROW, …, then the float tail's vec4s the same way.
fn lane_share(row: u32, j: u32, tt: u32, t: u32, scale: f32) -> f32 {
  var sum = 0.0;
  for (var b = j; b < FULL_BLOCKS; b += LANES_PER_ROW) {
    sum += dot8(weight_block8(row, b), x_block8(tt, t, b, scale));
  }
  for (var v = j; v < TAIL_VEC4; v += LANES_PER_ROW) {
    let at = FULL_BLOCKS * 8u + v;
    sum += dot(weight_vec4(row, at * 4u), x_vec4(tt, t, at, scale));
  }
  return sum;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(local_invocation_index) lane: u32,
  @builtin(subgroup_id) subgroup: u32,
  @builtin(subgroup_size) subgroup_size: u32,
  @builtin(subgroup_invocation_id) subgroup_lane: u32,
) {
  let n = input_rows();
  let first_token = wid.y * TOKEN_TILE;
  if (first_token >= n) {
    return; // uniform across the workgroup
  }
  let scale = norm_prologue(lane, first_token, n);
  let slot = subgroup * subgroup_size + subgroup_lane;
  let j = slot % LANES_PER_ROW;
  let row = wid.x * ROWS_PER_WORKGROUP + slot / LANES_PER_ROW;
  let read_row = min(row, params.rows - 1u); // lanes past the chunk repeat its last row and store nothing
  for (var tt = 0u; tt < TOKEN_TILE; tt++) {
    let t = min(first_token + tt, n - 1u); // tail tokens re-read the last one; never stored
    var sum = lane_share(read_row, j, tt, t, scale[tt]);
    for (var width = LANES_PER_ROW / 2u; width > 0u; width /= 2u) {
      sum += subgroupShuffleXor(sum, width);
    }
    if (j == 0u && row < params.rows && first_token + tt < n) {
      store_output(first_token + tt, row, sum);
    }
  }
}
