// The KV cache as a block map: which sequence holds each physical block, which blocks are shared
// (reference count > 1: forks, common prefixes), and which are sealed (quantized when they filled up)
// versus the full-precision tail each sequence keeps for its newest partial block.

import type { TransformerModel } from "../model/forward.js";
import type { SequenceTable } from "../kv/sequences.js";
import { formatName } from "../kv/formats.js";

export interface KvBlockInfo {
  block: number;
  /** Sequences whose block tables hold this block. */
  owners: number[];
  refCount: number;
  /** Tokens stored in the block (block size when full). */
  tokens: number;
  /** Full and quantized (quantized formats only). */
  sealed: boolean;
}

export interface KvSequenceInfo {
  id: number;
  tokens: number;
  blocks: number[];
  /** Tokens held in the full-precision tail (quantized formats: the newest partial block), else 0. */
  tailTokens: number;
}

export interface KvMap {
  format: { k: string; v: string };
  blockSize: number;
  blocksTotal: number;
  blocksUsed: number;
  /** Blocks held by more than one sequence. */
  sharedBlocks: number[];
  sequences: KvSequenceInfo[];
  /** Used blocks, by physical id. */
  blocks: KvBlockInfo[];
  /** Token slots used / slots in used blocks. */
  utilization: number;
  bytes: number;
  tailBytes: number;
}

export function kvMap(model: TransformerModel, table: SequenceTable): KvMap {
  const { blockSize, allocator } = table;
  const quantized = table.tails > 0;
  const blocks = new Map<number, KvBlockInfo>();
  const sequences: KvSequenceInfo[] = [];
  for (const sequence of table.all()) {
    sequence.blocks.forEach((block, i) => {
      const tokens = Math.min(blockSize, sequence.length - i * blockSize);
      const info = blocks.get(block) ?? { block, owners: [], refCount: allocator.refCount(block), tokens: 0, sealed: false };
      info.owners.push(sequence.id);
      info.tokens = Math.max(info.tokens, tokens);
      info.sealed = quantized && info.tokens === blockSize;
      blocks.set(block, info);
    });
    const partial = sequence.length % blockSize;
    sequences.push({ id: sequence.id, tokens: sequence.length, blocks: [...sequence.blocks], tailTokens: quantized ? partial : 0 });
  }
  const { usedSlots, allocatedSlots } = table.utilization();
  const pool = model.kvPool;
  return {
    format: { k: formatName(pool.settings.format.k), v: formatName(pool.settings.format.v) },
    blockSize,
    blocksTotal: allocator.totalBlocks,
    blocksUsed: allocator.usedBlocks,
    sharedBlocks: [...blocks.values()].filter((b) => b.refCount > 1).map((b) => b.block),
    sequences,
    blocks: [...blocks.values()].sort((a, b) => a.block - b.block),
    utilization: allocatedSlots > 0 ? usedSlots / allocatedSlots : 0,
    bytes: pool.totalBytes,
    tailBytes: pool.tailBytesTotal,
  };
}
