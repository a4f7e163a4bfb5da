// The constants every KV-reading or -writing kernel is compiled with (shaders/kv_cache.wgsl).

export interface KvShape {
  blockSize: number;
  kvHeads: number;
  headDim: number;
}

export interface AttentionShape extends KvShape {
  qHeads: number;
  /** Sliding window in tokens; 0 = full causal attention. */
  window: number;
}

export function kvConstants(shape: KvShape): Record<string, number> {
  return { BLOCK_SIZE: shape.blockSize, KV_HEADS: shape.kvHeads, HEAD_DIM: shape.headDim };
}

export function attentionConstants(shape: AttentionShape): Record<string, number> {
  return { ...kvConstants(shape), Q_HEADS: shape.qHeads, WINDOW: shape.window, SCALE: 1 / Math.sqrt(shape.headDim) };
}
