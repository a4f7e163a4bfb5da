// The estimator's model of webkv's KV blocks (written from the documented layout, src/estimator/webkv.ts)
// against the runtime's own layout (src/kv/formats.ts): the same bytes for every format, grouping and shape.
// The two are written separately on purpose; this is where they are compared.

import { describe, expect, it } from "vitest";
import { webkvSectionBytes } from "../../src/estimator/webkv.js";
import { sectionLayout, type KvGrouping, type KvValueType } from "../../src/kv/formats.js";

describe("webkv KV block bytes: estimator vs runtime layout", () => {
  const types: KvValueType[] = ["f32", "f16", "int8", "int4"];
  const groupings: KvGrouping[] = ["token", "channel"];
  const shapes = [
    { blockSize: 16, kvHeads: 4, headDim: 8 },
    { blockSize: 8, kvHeads: 1, headDim: 128 },
    { blockSize: 32, kvHeads: 8, headDim: 64 },
    { blockSize: 64, kvHeads: 3, headDim: 64 },
    { blockSize: 16, kvHeads: 6, headDim: 8 },
    { blockSize: 16, kvHeads: 2, headDim: 80 },
  ];
  for (const shape of shapes) {
    for (const type of types) {
      for (const grouping of groupings) {
        it(`${type}-${grouping}, block ${shape.blockSize}, ${shape.kvHeads}×${shape.headDim}`, () => {
          const runtime = sectionLayout(shape, { type, grouping }).words * 4;
          expect(webkvSectionBytes({ type, grouping }, shape.blockSize, shape.kvHeads, shape.headDim)).toBe(runtime);
        });
      }
    }
  }
});
