// Numbers that would have been garbage with exit 0: a NaN or Inf weight is refused at load by name (matrices
// while they upload, norms when they are read), and weights that overflow float32 at run time stop the run
// with a named error instead of sampling token 0 forever.

import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { writeGgufFile } from "../../src/gguf/node-writer.js";
import { syntheticLlama } from "../../src/gguf/synthetic.js";
import { GgmlType } from "../../src/gguf/types.js";

const exec = promisify(execFile);
const bin = resolve(import.meta.dirname, "../../bin/webkv.js");
const tempDir = await mkdtemp(join(tmpdir(), "webkv-numeric-"));
afterAll(() => rm(tempDir, { recursive: true, force: true }));

const shape = { dim: 64, layers: 2, heads: 2, kvHeads: 2, ffn: 128, vocab: 300, contextLength: 64 };

/** A synthetic model with `tensor`'s values changed by `edit`. */
async function modelWith(name: string, type: GgmlType, tensor: string, edit: (values: Float32Array) => void): Promise<string> {
  const model = syntheticLlama(shape, { seed: 2, weightType: type });
  const entry = model.tensors.find((t) => t.name === tensor)!;
  const original = entry.values;
  entry.values = () => {
    const values = Float32Array.from(typeof original === "function" ? original() : original!);
    edit(values);
    return values;
  };
  const path = join(tempDir, `${name}.gguf`);
  await writeGgufFile(path, model.metadata, model.tensors);
  return path;
}

async function run(path: string, extra: string[] = []): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec("node", [bin, "run", "--model", path, "--prompt-ids", "1,5,9", "--max-tokens", "4", ...extra], { timeout: 120_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    return error as { code: number; stdout: string; stderr: string };
  }
}

describe("numeric safety", () => {
  it("a NaN in an F32 matrix is refused at load, naming the tensor and element", async () => {
    const path = await modelWith("nan-f32", GgmlType.F32, "blk.1.ffn_up.weight", (v) => (v[70] = NaN));
    const { code, stderr } = await run(path);
    expect(code).toBe(1);
    expect(stderr.trim()).toBe('webkv run: tensor "blk.1.ffn_up.weight" holds a non-finite value (NaN or ±Inf) at element 70: the file is corrupt');
  });

  it("an Inf in a norm vector is refused at load", async () => {
    const path = await modelWith("inf-norm", GgmlType.Q8_0, "blk.0.attn_norm.weight", (v) => (v[3] = Infinity));
    const { code, stderr } = await run(path);
    expect(code).toBe(1);
    expect(stderr).toMatch(/tensor "blk\.0\.attn_norm\.weight" holds a non-finite value .* at element 3/);
  });

  it("weights that overflow float32 at run time stop with non_finite_logits, not token 0 with exit 0", async () => {
    const path = await modelWith("overflow", GgmlType.F32, "output_norm.weight", (v) => v.fill(3e38));
    const { code, stdout, stderr } = await run(path);
    expect(code).toBe(1);
    expect(stdout).toBe("");
    // a greedy run reads back argmax ids: the GPU's argmax flags the row (a run reading logits names the token too)
    expect(stderr.trim()).toMatch(/^webkv run: the model produced a non-finite logit for logit row 0 .*overflow float32/);
    // sampling reads the logits back: the check there names the token and the value
    const sampled = await run(path, ["--temperature", "1"]);
    expect(sampled.code).toBe(1);
    expect(sampled.stderr.trim()).toMatch(/^webkv run: the model produced a non-finite logit for token \d+ at logit row 0 \((-?Infinity|NaN)\)/);
  });
});
