// Embedding lookup from a (possibly quantized) table (include weights.wgsl and a weight_quants_* library first).
//
//   x[t, :] = table[token_id(t), :]          table: [vocab rows, COLS]   x: [num_tokens, COLS]
//
// A table larger than one binding arrives in row chunks [row_offset, row_offset + rows); each chunk is
// one dispatch and writes only the tokens whose id falls inside it. One invocation = one weight block.

struct ChunkParams {
  rows: u32,
  row_offset: u32,
  texel_width_log2: u32, // table read as texels (shaders/weight_quants_texels.wgsl): log2 of the texture's width
  _pad1: u32,
}

@group(0) @binding(0) var<uniform> step: Step;
@group(0) @binding(1) var<uniform> chunk: ChunkParams;
@group(0) @binding(2) var<storage, read> w_data: array<u32>;
@group(0) @binding(3) var<storage, read> w_scales: array<u32>;
@group(0) @binding(4) var<storage, read> tokens: array<vec4<u32>>; // (id, seq, position, kv slot)
@group(0) @binding(5) var<storage, read_write> x: array<vec4<f32>>;

/// Rows of the bound table chunk (weights.wgsl's split_block_index).
fn weight_rows() -> u32 {
  return chunk.rows;
}

fn weight_texel_width_log2() -> u32 {
  return chunk.texel_width_log2;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let b = gid.x;
  let t = gid.y;
  if (b >= BLOCKS_PER_ROW || t >= step.num_tokens) {
    return;
  }
  let id = tokens[t].x;
  if (id < chunk.row_offset || id >= chunk.row_offset + chunk.rows) {
    return;
  }
  let values = load_weight_block(id - chunk.row_offset, b);
  for (var j = 0u; j < BLOCK_VEC4; j++) {
    x[t * (COLS / 4u) + b * BLOCK_VEC4 + j] = values[j];
  }
}
