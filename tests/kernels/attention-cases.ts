// Random paged-attention cases (shuffled physical blocks, random q/k/v) with their CPU-reference answers,
// shared by the kernel tests and the attention tests.

import { Random } from "../../src/gguf/random.js";
import { attentionRef } from "./reference.js";

export interface AttentionCase {
  qHeads: number;
  kvHeads: number;
  headDim: number;
  blockSize: number;
  window: number;
  seqs: { contextLen: number; numNew: number }[];
  /** Query scale (default 1/√headDim) and score soft-cap (default none). */
  scale?: number;
  softcap?: number;
}

/** Builds a random paged-attention case: shuffled physical blocks, random q/k/v. */
export function attentionCase(c: AttentionCase, seed: number) {
  const random = new Random(seed);
  const kvDim = c.kvHeads * c.headDim;
  const blocksPerSeq = c.seqs.map((s) => Math.ceil((s.contextLen + s.numNew) / c.blockSize));
  const numBlocks = blocksPerSeq.reduce((a, b) => a + b, 0) + 3;
  const ids = Array.from({ length: numBlocks }, (_, i) => i);
  for (let i = ids.length - 1; i > 0; i--) {
    const j = random.nextInt(i + 1);
    [ids[i], ids[j]] = [ids[j]!, ids[i]!];
  }
  let next = 0;
  const seqs = c.seqs.map((s, i) => {
    const blockTable = ids.slice(next, (next += blocksPerSeq[i]!));
    const total = s.contextLen + s.numNew;
    const k = random.normals(total * kvDim);
    const v = random.normals(total * kvDim);
    return {
      blockTable,
      contextLen: s.contextLen,
      numNew: s.numNew,
      contextK: k.slice(0, s.contextLen * kvDim),
      contextV: v.slice(0, s.contextLen * kvDim),
      newK: k.slice(s.contextLen * kvDim),
      newV: v.slice(s.contextLen * kvDim),
      q: random.normals(s.numNew * c.qHeads * c.headDim),
      allK: k,
      allV: v,
    };
  });
  const expected = seqs.flatMap((s) =>
    Array.from(attentionRef(s.q, s.allK, s.allV, s.contextLen, s.numNew, c.qHeads, c.kvHeads, c.headDim, c.window, c.scale, c.softcap)),
  );
  const request = {
    qHeads: c.qHeads, kvHeads: c.kvHeads, headDim: c.headDim, blockSize: c.blockSize, numBlocks, window: c.window,
    scale: c.scale, softcap: c.softcap,
    seqs: seqs.map(({ allK: _k, allV: _v, ...rest }) => rest),
  };
  return { request, expected, values: seqs.map((s) => ({ k: s.allK, v: s.allV })) };
}
