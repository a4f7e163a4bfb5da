// Stores this step's new keys and values (include kv_cache.wgsl first). One invocation = one pair of
// values (h, d), (h, d+1) of one token, for K and for V:
//   f32 / f16 sections:   straight into the token's slot of its block;
//   int8 / int4 sections: into the sequence's full-precision tail, if the token lies past the last full block
//                         (tokens of blocks that filled up in this step were already quantized by kv_seal).
//   k, v: [num_tokens, KV_HEADS·HEAD_DIM]
// Entry main_rope also applies RoPE (normal layout: pairs (d, d+1), the first ROPE_DIM dims of a head; rope.wgsl's
// arithmetic) on the way: each k pair is turned, written back (attention reads the step's own keys from k) and
// stored, and the invocations after the k pairs turn q's pairs in place — one dispatch for rope.wgsl's and this.
// Not for a quantized K section: its kv_seal, before this kernel, reads k and would read it unturned.
//   q: [num_tokens, Q_HEADS·HEAD_DIM]   cos_sin: [num_tokens, ROPE_DIM/2]

@group(0) @binding(0) var<uniform> step: Step;
@group(0) @binding(1) var<storage, read> tokens: array<TokenInfo>;
@group(0) @binding(2) var<storage, read> seqs: array<SeqInfo>;
@group(0) @binding(3) var<storage, read> k: array<vec2<f32>>;
@group(0) @binding(4) var<storage, read> v: array<vec2<f32>>;
@group(0) @binding(5) var<storage, read_write> kv_pool: array<u32>;
@group(0) @binding(6) var<storage, read> block_tables: array<u32>; // named by kv_cache.wgsl
// main_rope's: k read and written (the binding `k` has in main), v bound writable too (k and v are ranges of one
// buffer, and a dispatch may not use a buffer both writable and read-only), q, and the step's angles
@group(0) @binding(3) var<storage, read_write> k_turned: array<vec2<f32>>;
@group(0) @binding(4) var<storage, read_write> v_beside: array<vec2<f32>>;
@group(0) @binding(7) var<storage, read_write> q_turned: array<vec2<f32>>;
@group(0) @binding(8) var<storage, read> cos_sin: array<vec2<f32>>;

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

/// Stores k and v pair `pair_index` of token t (main_rope's k turned).
fn append_pair(t: u32, pair_index: u32, k_pair: vec2<f32>, v_pair: vec2<f32>) {
  let token = tokens[t];
  let seq = seqs[token.seq];
  let head = (pair_index * 2u) / HEAD_DIM;
  let d = (pair_index * 2u) % HEAD_DIM;
  let block = token.kv_slot / BLOCK_SIZE;
  let slot = token.kv_slot % BLOCK_SIZE;
  let in_tail = token.position >= (seq.context_len / BLOCK_SIZE) * BLOCK_SIZE;
  if (!K_QUANTIZED) {
    store_pair(block * KV_BLOCK_WORDS, K_TYPE, head, slot, d, k_pair);
  } else if (in_tail) {
    store_tail_pair(seq, false, head, slot, d, k_pair);
  }
  if (!V_QUANTIZED) {
    store_pair(block * KV_BLOCK_WORDS + K_WORDS, V_TYPE, head, slot, d, v_pair);
  } else if (in_tail) {
    store_tail_pair(seq, true, head, slot, d, v_pair);
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let pair_index = gid.x;
  let t = gid.y;
  if (pair_index >= PAIRS_PER_TOKEN || t >= step.num_tokens) {
    return;
  }
  let src = t * PAIRS_PER_TOKEN + pair_index;
  append_pair(t, pair_index, k[src], v[src]);
}

const Q_PAIRS_PER_TOKEN: u32 = Q_HEADS * HEAD_DIM / 2u;

/// Pair (d, d+1) of token t turned by its angle (dims past ROPE_DIM as they are), as rope.wgsl turns it.
fn turned(pair: vec2<f32>, t: u32, d: u32) -> vec2<f32> {
  if (d >= ROPE_DIM) {
    return pair;
  }
  let cs = cos_sin[t * (ROPE_DIM / 2u) + d / 2u];
  return vec2<f32>(pair.x * cs.x - pair.y * cs.y, pair.x * cs.y + pair.y * cs.x);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main_rope(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  let t = gid.y;
  if (t >= step.num_tokens) {
    return;
  }
  if (i < PAIRS_PER_TOKEN) {
    let src = t * PAIRS_PER_TOKEN + i;
    let k_pair = turned(k_turned[src], t, (i * 2u) % HEAD_DIM);
    k_turned[src] = k_pair;
    append_pair(t, i, k_pair, v_beside[src]);
  } else if (i < PAIRS_PER_TOKEN + Q_PAIRS_PER_TOKEN) {
    let j = i - PAIRS_PER_TOKEN;
    let at = t * Q_PAIRS_PER_TOKEN + j;
    q_turned[at] = turned(q_turned[at], t, (j * 2u) % HEAD_DIM);
  }
}
