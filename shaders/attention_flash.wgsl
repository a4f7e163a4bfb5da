// FlashAttention over the paged cache: the N×N score matrix never exists (include kv_cache.wgsl and kv_read.wgsl first).
// Three entry points. A sequence with several new tokens in the step goes through prefill_main; one with a
// single new token through decode_main + merge_main. Every row's arithmetic depends only on its own position
// and its sequence's cache — key tiles are aligned to absolute positions and decode chunks to the sequence's
// own length — so a sequence gets bit-identical results alone or inside any batch.
//
// prefill_main — FlashAttention-2 style. A workgroup owns a tile of Q_TILE query tokens of one sequence for
//   one KV head, i.e. Q_TILE × GROUP query rows (GROUP = Q_HEADS / KV_HEADS heads share that KV head), one row
//   per invocation. It walks the visible keys in tiles of K_TILE (tile starts are multiples of K_TILE): the
//   tile's K and V rows are loaded once into
//   workgroup memory and shared by every row; each row keeps a running max m, running sum l and an unnormalized
//   output acc, rescaled once per tile (online softmax). Causal and sliding-window masks per row.
//   Workgroups: (query tiles of the longest sequence, sequences, KV heads). With SHARED_KV_TILES false each row
//   reads the tile's keys and values itself and no barrier is needed (for adapters where barriers cost more
//   than re-reads); the arithmetic, and so the result, is the same.
//
// decode_main + merge_main — split-K "flash-decoding". A sequence's context of n keys is cut into
//   clamp(⌈n / DECODE_MIN_CHUNK⌉, 1, DECODE_MAX_CHUNKS) chunks; one invocation runs the online softmax of one
//   query head over one chunk and writes its partial state (m, l, acc) to `partials`; merge_main combines a
//   head's chunks:  M = max m_c,  L = Σ l_c·e^(m_c−M),  out = Σ acc_c·e^(m_c−M) / L.
//   partials: [sequences, Q_HEADS, DECODE_MAX_CHUNKS] × (HEAD_DIM + 2) floats — bounded, whatever the context.

@group(0) @binding(0) var<uniform> step: Step;
@group(0) @binding(1) var<storage, read> tokens: array<TokenInfo>;
@group(0) @binding(2) var<storage, read> seqs: array<SeqInfo>;
@group(0) @binding(3) var<storage, read> block_tables: array<u32>;
@group(0) @binding(4) var<storage, read> kv_pool: array<u32>;
@group(0) @binding(5) var<storage, read> q: array<vec4<f32>>;
@group(0) @binding(6) var<storage, read_write> partials: array<f32>;
@group(0) @binding(7) var<storage, read_write> out: array<vec4<f32>>;
@group(0) @binding(8) var<storage, read> kv_new: array<vec4<f32>>; // this step's k rows, then v rows (kv_read.wgsl)

const ROWS: u32 = Q_TILE * GROUP;
const PARTIAL_FLOATS: u32 = HEAD_DIM + 2u;

// ---- prefill -------------------------------------------------------------------------------------------

var<workgroup> k_tile: array<vec4<f32>, K_TILE * HEAD_VEC4>;
var<workgroup> v_tile: array<vec4<f32>, K_TILE * HEAD_VEC4>;

/// The query row of token t, head `head`, pre-multiplied by the softmax scale.
fn load_query(t: u32, head: u32) -> array<vec4<f32>, HEAD_VEC4> {
  var row: array<vec4<f32>, HEAD_VEC4>;
  for (var d4 = 0u; d4 < HEAD_VEC4; d4++) {
    row[d4] = q[(t * Q_HEADS + head) * HEAD_VEC4 + d4] * SCALE;
  }
  return row;
}

/// Key / value dims d4 of key j (tile position jj): from the shared tile, or straight from the cache.
fn tile_key(seq: SeqInfo, jj: u32, d4: u32, block: u32, kv_head: u32, j: u32) -> vec4<f32> {
  if (SHARED_KV_TILES) {
    return k_tile[jj * HEAD_VEC4 + d4];
  }
  return kv_key4(seq, j, block, kv_head, d4);
}

fn tile_value(seq: SeqInfo, jj: u32, d4: u32, block: u32, kv_head: u32, j: u32) -> vec4<f32> {
  if (SHARED_KV_TILES) {
    return v_tile[jj * HEAD_VEC4 + d4];
  }
  return kv_value4(seq, j, block, kv_head, d4);
}

@compute @workgroup_size(ROWS)
fn prefill_main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lane: u32) {
  let seq_index = wid.y;
  let kv_head = wid.z;
  if (seq_index >= step.num_seqs) {
    return;
  }
  let seq = seqs[seq_index];
  let tile_first = wid.x * Q_TILE;
  if (tile_first >= seq.num_tokens || seq.num_tokens == 1u) {
    return; // uniform: depends only on the workgroup (one-token sequences are decode_main's)
  }
  // Positions of this sequence's new tokens are consecutive and end at context_len − 1.
  let first_new_position = seq.context_len - seq.num_tokens;
  let tile_last = min(tile_first + Q_TILE, seq.num_tokens) - 1u;
  let key_begin = first_visible(first_new_position + tile_first) / K_TILE * K_TILE;
  let key_end = first_new_position + tile_last + 1u; // exclusive

  let token_in_seq = tile_first + lane / GROUP;
  let head = kv_head * GROUP + lane % GROUP;
  let row_valid = token_in_seq < seq.num_tokens;
  let t = seq.first_token + min(token_in_seq, seq.num_tokens - 1u);
  let position = first_new_position + min(token_in_seq, seq.num_tokens - 1u);
  let row_first_key = first_visible(position);

  let q_row = load_query(t, head);
  var acc: array<vec4<f32>, HEAD_VEC4>;
  var m = NEG_INF;
  var l = 0.0;
  var s: array<f32, K_TILE>;

  for (var tile_start = key_begin; tile_start < key_end; tile_start += K_TILE) {
    if (SHARED_KV_TILES) {
      // Cooperative load of K_TILE keys and values of this KV head.
      for (var i = lane; i < K_TILE * HEAD_VEC4; i += ROWS) {
        let j = tile_start + i / HEAD_VEC4;
        if (j < key_end) {
          let block = kv_block_of(seq.block_table_offset, j);
          k_tile[i] = kv_key4(seq, j, block, kv_head, i % HEAD_VEC4);
          v_tile[i] = kv_value4(seq, j, block, kv_head, i % HEAD_VEC4);
        }
      }
      workgroupBarrier();
    }

    var tile_max = NEG_INF;
    for (var jj = 0u; jj < K_TILE; jj++) {
      let j = tile_start + jj;
      var score = NEG_INF;
      if (j < key_end && j <= position && j >= row_first_key) {
        score = 0.0;
        let block = kv_block_of(seq.block_table_offset, j);
        for (var d4 = 0u; d4 < HEAD_VEC4; d4++) {
          score += dot(q_row[d4], tile_key(seq, jj, d4, block, kv_head, j));
        }
        score = cap_score(score);
      }
      s[jj] = score;
      tile_max = max(tile_max, score);
    }
    if (tile_max > NEG_INF) {
      let m_new = max(m, tile_max);
      let correction = exp(m - m_new);
      l *= correction;
      for (var d4 = 0u; d4 < HEAD_VEC4; d4++) {
        acc[d4] *= correction;
      }
      for (var jj = 0u; jj < K_TILE; jj++) {
        if (s[jj] > NEG_INF) {
          let p = exp(s[jj] - m_new);
          l += p;
          let j = tile_start + jj;
          let block = kv_block_of(seq.block_table_offset, j);
          for (var d4 = 0u; d4 < HEAD_VEC4; d4++) {
            acc[d4] += p * tile_value(seq, jj, d4, block, kv_head, j);
          }
        }
      }
      m = m_new;
    }
    if (SHARED_KV_TILES) {
      workgroupBarrier();
    }
  }

  if (row_valid) {
    for (var d4 = 0u; d4 < HEAD_VEC4; d4++) {
      out[(t * Q_HEADS + head) * HEAD_VEC4 + d4] = acc[d4] / l;
    }
  }
}

// ---- decode: split-K, then merge ------------------------------------------------------------------------

fn partial_index(seq_index: u32, head: u32, chunk: u32) -> u32 {
  return ((seq_index * Q_HEADS + head) * DECODE_MAX_CHUNKS + chunk) * PARTIAL_FLOATS;
}

fn decode_chunks(context_len: u32) -> u32 {
  return clamp((context_len + DECODE_MIN_CHUNK - 1u) / DECODE_MIN_CHUNK, 1u, DECODE_MAX_CHUNKS);
}

/// Keys [x, y) of chunk `chunk` (< chunks) of a one-token sequence: its share of the visible keys.
fn decode_chunk_keys(seq: SeqInfo, chunk: u32, chunks: u32) -> vec2<u32> {
  let chunk_len = (seq.context_len + chunks - 1u) / chunks;
  let position = seq.context_len - 1u;
  return vec2<u32>(max(chunk * chunk_len, first_visible(position)), min((chunk + 1u) * chunk_len, position + 1u));
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn decode_main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let chunk = gid.x;
  let head = gid.y;
  let seq_index = gid.z;
  if (seq_index >= step.num_seqs) {
    return;
  }
  let seq = seqs[seq_index];
  let chunks = decode_chunks(seq.context_len);
  if (seq.num_tokens != 1u || chunk >= chunks) {
    return;
  }
  let t = seq.first_token;
  let kv_head = head / GROUP;
  let keys = decode_chunk_keys(seq, chunk, chunks);
  let begin = keys.x;
  let end = keys.y;

  let q_row = load_query(t, head);
  var acc: array<vec4<f32>, HEAD_VEC4>;
  var m = NEG_INF;
  var l = 0.0;
  for (var j = begin; j < end; j++) {
    let block = kv_block_of(seq.block_table_offset, j);
    var score = 0.0;
    for (var d4 = 0u; d4 < HEAD_VEC4; d4++) {
      score += dot(q_row[d4], kv_key4(seq, j, block, kv_head, d4));
    }
    score = cap_score(score);
    let m_new = max(m, score);
    let correction = exp(m - m_new);
    let p = exp(score - m_new);
    l = l * correction + p;
    for (var d4 = 0u; d4 < HEAD_VEC4; d4++) {
      acc[d4] = acc[d4] * correction + p * kv_value4(seq, j, block, kv_head, d4);
    }
    m = m_new;
  }
  let at = partial_index(seq_index, head, chunk);
  partials[at] = m; // NEG_INF and l = 0 for an empty chunk (all of it outside the window): it adds nothing
  partials[at + 1u] = l;
  for (var d4 = 0u; d4 < HEAD_VEC4; d4++) {
    let a = acc[d4];
    partials[at + 2u + d4 * 4u] = a.x;
    partials[at + 3u + d4 * 4u] = a.y;
    partials[at + 4u + d4 * 4u] = a.z;
    partials[at + 5u + d4 * 4u] = a.w;
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn merge_main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let d4 = gid.x % HEAD_VEC4;
  let head = gid.x / HEAD_VEC4;
  let seq_index = gid.y;
  if (head >= Q_HEADS || seq_index >= step.num_seqs) {
    return;
  }
  let seq = seqs[seq_index];
  if (seq.num_tokens != 1u) {
    return;
  }
  let chunks = decode_chunks(seq.context_len);
  var m_total = NEG_INF;
  for (var c = 0u; c < chunks; c++) {
    m_total = max(m_total, partials[partial_index(seq_index, head, c)]);
  }
  var l_total = 0.0;
  var acc = vec4<f32>(0.0);
  for (var c = 0u; c < chunks; c++) {
    let at = partial_index(seq_index, head, c);
    let l_c = partials[at + 1u];
    if (l_c > 0.0) {
      let weight = exp(partials[at] - m_total);
      l_total += l_c * weight;
      let base = at + 2u + d4 * 4u;
      acc += weight * vec4<f32>(partials[base], partials[base + 1u], partials[base + 2u], partials[base + 3u]);
    }
  }
  out[(seq.first_token * Q_HEADS + head) * HEAD_VEC4 + d4] = acc / l_total;
}
