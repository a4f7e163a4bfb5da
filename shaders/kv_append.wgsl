// Writes this step's new keys and values into their cache slots (include kv_cache.wgsl first).
//
//   K[slot(t), h, :] = k[t, h, :]     V[slot(t), h, :] = v[t, h, :]      k, v: [num_tokens, KV_HEADS·HEAD_DIM]

@group(0) @binding(0) var<uniform> step: Step;
@group(0) @binding(1) var<storage, read> tokens: array<TokenInfo>;
@group(0) @binding(2) var<storage, read> k: array<f32>;
@group(0) @binding(3) var<storage, read> v: array<f32>;
@group(0) @binding(4) var<storage, read_write> kv_pool: array<u32>;
@group(0) @binding(5) var<storage, read> block_tables: array<u32>; // unused here; kv_cache.wgsl names it

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let e = gid.x; // h · HEAD_DIM + d
  let t = gid.y;
  if (e >= KV_HEADS * HEAD_DIM || t >= step.num_tokens) {
    return;
  }
  let head = e / HEAD_DIM;
  let d = e % HEAD_DIM;
  let slot = tokens[t].kv_slot;
  let block = slot / BLOCK_SIZE;
  let within = slot % BLOCK_SIZE;
  let src = t * KV_HEADS * HEAD_DIM + e;
  kv_pool[kv_word_index(block, false, head, within) + d] = bitcast<u32>(k[src]);
  kv_pool[kv_word_index(block, true, head, within) + d] = bitcast<u32>(v[src]);
}
