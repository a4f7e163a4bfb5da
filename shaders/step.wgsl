// What every kernel knows about the current step (a library, prepended to each kernel by its wrapper).
// Written by src/model/step.ts before each step.

struct Step {
  num_tokens: u32,
  num_seqs: u32,
  num_logit_rows: u32,
  max_context: u32,       // largest context (cached + new tokens) of any sequence in the step
  max_seq_tokens: u32,    // most new tokens of any one sequence
  num_decode_seqs: u32,   // sequences with exactly one new token (attention runs them through split-K decode)
  num_seals: u32,         // KV blocks that fill up in this step (quantized formats seal them)
  _pad: u32,
}

struct TokenInfo {
  id: u32,
  seq: u32,
  position: u32,
  kv_slot: u32, // physical: block · BLOCK_SIZE + slot within the block
}

struct SeqInfo {
  context_len: u32,        // tokens in the cache after this step
  block_table_offset: u32, // where this sequence's block table starts in block_tables
  first_token: u32,        // its first token in this step's batch
  num_tokens: u32,         // its tokens in this step's batch
  tail: u32,               // its full-precision tail slot (quantized KV formats)
  _pad0: u32,
  _pad1: u32,
  _pad2: u32,
}
