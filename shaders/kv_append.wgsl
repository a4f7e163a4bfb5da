// Stores this step's new keys and values (include kv_cache.wgsl first). One invocation = one pair of
// values (h, d), (h, d+1) of one token, for K and for V:
//   f32 / f16 sections:   straight into the token's slot of its block;
//   int8 / int4 sections: into the sequence's full-precision tail, if the token lies past the last full block
//                         (tokens of blocks that filled up in this step were already quantized by kv_seal).
//   k, v: [num_tokens, KV_HEADS·HEAD_DIM]

@group(0) @binding(0) var<uniform> step: Step;
@group(0) @binding(1) var<storage, read> tokens: array<TokenInfo>;
@group(0) @binding(2) var<storage, read> seqs: array<SeqInfo>;
@group(0) @binding(3) var<storage, read> k: array<vec2<f32>>;
@group(0) @binding(4) var<storage, read> v: array<vec2<f32>>;
@group(0) @binding(5) var<storage, read_write> kv_pool: array<u32>;
@group(0) @binding(6) var<storage, read> block_tables: array<u32>; // named by kv_cache.wgsl

const PAIRS_PER_TOKEN: u32 = KV_HEADS * HEAD_DIM / 2u;

fn store_pair(base: u32, kind: u32, head: u32, slot: u32, d: u32, pair: vec2<f32>) {
  let value = (head * BLOCK_SIZE + slot) * HEAD_DIM + d;
  if (kind == KV_F32) {
    kv_pool[base + value] = bitcast<u32>(pair.x);
    kv_pool[base + value + 1u] = bitcast<u32>(pair.y);
  } else {
    kv_pool[base + value / 2u] = pack2x16float(pair);
  }
}

fn store_tail_pair(seq: SeqInfo, is_value: bool, head: u32, slot: u32, d: u32, pair: vec2<f32>) {
  let at = kv_tail_index(seq.tail, is_value, head, slot) + d;
  kv_pool[at] = bitcast<u32>(pair.x);
  kv_pool[at + 1u] = bitcast<u32>(pair.y);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let pair_index = gid.x;
  let t = gid.y;
  if (pair_index >= PAIRS_PER_TOKEN || t >= step.num_tokens) {
    return;
  }
  let token = tokens[t];
  let seq = seqs[token.seq];
  let head = (pair_index * 2u) / HEAD_DIM;
  let d = (pair_index * 2u) % HEAD_DIM;
  let block = token.kv_slot / BLOCK_SIZE;
  let slot = token.kv_slot % BLOCK_SIZE;
  let in_tail = token.position >= (seq.context_len / BLOCK_SIZE) * BLOCK_SIZE;
  let src = t * PAIRS_PER_TOKEN + pair_index;
  if (!K_QUANTIZED) {
    store_pair(block * KV_BLOCK_WORDS, K_TYPE, head, slot, d, k[src]);
  } else if (in_tail) {
    store_tail_pair(seq, false, head, slot, d, k[src]);
  }
  if (!V_QUANTIZED) {
    store_pair(block * KV_BLOCK_WORDS + K_WORDS, V_TYPE, head, slot, d, v[src]);
  } else if (in_tail) {
    store_tail_pair(seq, true, head, slot, d, v[src]);
  }
}
