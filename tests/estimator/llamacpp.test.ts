// The llama.cpp profile against llama.cpp itself, small enough for every test run: a SmolLM2-135M-shaped model
// cut to 2 layers (full vocabulary, so the output and compute buffers keep their real size) in Q8_0 and Q4_0
// (Q4_0 matrices are repacked on this x86 build), at a context that llama.cpp pads (1000 → 1024 cells), one
// where attention scores outgrow the logits and three parallel sequences (three streams of 1024 cells), KV f16 without flash attention and q8_0/q4_0 with it.
// The long sweep over four shapes is bench/validate-llamacpp.ts.

import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { estimateLlamaCpp, fromGgufMetadata, type ModelDescription } from "../../src/estimator/index.js";
import { readGgufHeader } from "../../src/gguf/reader.js";
import { fileSource } from "../../src/gguf/node-source.js";
import { writeGgufFile } from "../../src/gguf/node-writer.js";
import { syntheticLlama } from "../../src/gguf/synthetic.js";
import { GgmlType } from "../../src/gguf/types.js";
import { disposeLlamaCppBuffers, LlamaCppBuffers, type LlamaCppKvType } from "../reference/llamacpp-buffers.js";

const dir = mkdtempSync(join(tmpdir(), "webkv-llamacpp-buffers-"));
afterAll(disposeLlamaCppBuffers);

const MiB = 1024 * 1024;
/** printf("%.2f") of bytes in MiB: exact ties round to even. */
function mib2(bytes: number): string {
  const hundredths = (bytes * 100) / MiB;
  const floor = Math.floor(hundredths);
  const frac = hundredths - floor;
  return ((frac > 0.5 || (frac === 0.5 && floor % 2 === 1) ? floor + 1 : floor) / 100).toFixed(2);
}

async function writeModel(type: GgmlType): Promise<{ path: string; model: ModelDescription }> {
  const path = join(dir, `smollm2-2l-${GgmlType[type]}.gguf`);
  const s = syntheticLlama({ dim: 576, layers: 2, heads: 9, kvHeads: 3, ffn: 1536, vocab: 49152, contextLength: 8192, tiedOutput: true }, { seed: 3, weightType: type });
  await writeGgufFile(path, s.metadata, s.tensors);
  const source = await fileSource(path);
  const header = await readGgufHeader(source);
  await source.close?.();
  const model = fromGgufMetadata(Object.fromEntries(header.metadata),
    header.tensors.map((t) => ({ name: t.name, dims: t.dims, type: t.type as number, offset: t.relativeOffset })));
  return { path, model };
}

const MODES: { kv: LlamaCppKvType; flash: boolean }[] = [{ kv: "F16", flash: false }, { kv: "Q8_0", flash: true }, { kv: "Q4_0", flash: true }];

describe("llama.cpp profile vs llama.cpp's reported buffers", () => {
  for (const type of [GgmlType.Q8_0, GgmlType.Q4_0]) {
    it(`${GgmlType[type]} weights: model, KV and output buffers to the printed digit, compute within 5%`, async () => {
      const { path, model } = await writeModel(type);
      const llama = await LlamaCppBuffers.load(path);
      try {
        for (const [context, sequences] of [[1000, 1], [8192, 1], [1000, 3]] as const) {
          for (const mode of MODES) {
            const where = `${GgmlType[type]} ctx ${context} × ${sequences} kv ${mode.kv} fa ${mode.flash}`;
            // node-llama-cpp's contextSize is per sequence (n_ctx = contextSize × sequences); llama.cpp prints one stream's cells
            const reported = await llama.context({ contextSize: context, kvType: mode.kv, flashAttention: mode.flash, sequences });
            const e = estimateLlamaCpp(model, { context: context * sequences, sequences, kvK: mode.kv.toLowerCase(), flashAttention: mode.flash, repack: "avx2" });
            for (const [name, buffer] of Object.entries(llama.modelReport.model)) expect(mib2(e.bytes[`model_${name}`]!), `${where} ${name}`).toBe(buffer.text);
            expect(reported.kvCells, where).toEqual([e.figures.cells_per_sequence]);
            expect(mib2(e.bytes.kv), where).toBe(reported.kv[0]!.text);
            expect(mib2(e.bytes.output!), where).toBe(reported.output.text);
            const compute = reported.computeFine?.mib ?? reported.compute.mib;
            expect(Math.abs(e.bytes.compute! / MiB / compute - 1), `${where} compute ${compute}`).toBeLessThanOrEqual(0.05);
          }
        }
      } finally {
        await llama.dispose();
      }
    });
  }
});
