// The oracle checks out against published text: greedy decoding from BOS with the CPU reference reproduces
// the 256 tokens llama.cpp generated from stories260K.gguf.

import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { modelPath } from "../helpers/env.js";
import { argmax, loadReferenceModel } from "./llama-cpu.js";

describe("CPU reference", () => {
  it("reads the model's shape from its metadata", async () => {
    const model = await loadReferenceModel(modelPath("stories260K.gguf"));
    expect(model.config).toMatchObject({
      dim: 64, nLayers: 5, nHeads: 8, nKvHeads: 4, headDim: 8, ffnDim: 172, vocabSize: 512,
      ropeBase: 10000, ropeDim: 8, tiedOutput: false,
    });
    expect(model.config.rmsEps).toBeCloseTo(1e-5, 10);
  });

  it("greedy from BOS reproduces stories260K.greedy-from-bos.json (256 tokens)", async () => {
    const published = JSON.parse(readFileSync(modelPath("stories260K.greedy-from-bos.json"), "utf8")) as {
      ids_including_leading_bos: number[];
    };
    const expected = published.ids_including_leading_bos;
    expect(expected.length).toBe(257);
    const model = await loadReferenceModel(modelPath("stories260K.gguf"));
    const session = model.session(expected.length);
    const ids = [expected[0]!];
    while (ids.length < expected.length) ids.push(argmax(session.next(ids[ids.length - 1]!)));
    expect(ids).toEqual(expected);
  });

  it("teacher-forced logits equal step-by-step logits", async () => {
    const model = await loadReferenceModel(modelPath("stories260K.gguf"));
    const ids = [1, 403, 407, 261, 378, 432];
    const forced = model.logitsForSequence(ids);
    const session = model.session(ids.length);
    ids.forEach((id, p) => expect(session.next(id)).toEqual(forced[p]));
  });
});
