// The Dawn backend (src/harness/dawn.ts): the page's runtime run in this Node process on Dawn (npm `webgpu`)
// over the same SwiftShader driver Chromium uses here. stories260K greedy from BOS is the published text,
// token for token and logit for logit the same as Chromium's; the Q8_0 file gives Chromium's tokens too; the
// memory the runtime allocated is the same, byte for byte; unload returns every byte; errors keep their codes.

import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DawnSession } from "../../src/harness/dawn.js";
import type { RuntimeHost } from "../../src/harness/host.js";
import { BrowserSession } from "../../src/harness/session.js";
import { maxAbsDiff } from "../helpers/browser.js";
import { modelPath } from "../helpers/env.js";

const published = JSON.parse(readFileSync(modelPath("stories260K.greedy-from-bos.json"), "utf8")) as { ids_including_leading_bos: number[]; text: string };
let dawn: DawnSession;
let chromium: BrowserSession;

beforeAll(async () => {
  dawn = await DawnSession.start();
  chromium = await BrowserSession.start();
});

afterAll(async () => {
  await dawn?.close();
  await chromium?.close();
});

interface Reply {
  output_ids: number[];
  text: string;
  logits: Float32Array[];
}

async function greedy(host: RuntimeHost, file: string, maxTokens: number) {
  const loaded = await host.call<{ modelId: number }>("load", {
    url: host.publishFile(modelPath(file)),
    options: {},
  });
  const reply = await host.call<Reply>("generate", { modelId: loaded.modelId, promptIds: [1], maxTokens, keepLogits: true });
  const beforeUnload = await host.call<{ total: { live: number; peak: number } }>("memory", { modelId: loaded.modelId });
  await host.call("unload", { modelId: loaded.modelId });
  return { loaded, reply, beforeUnload };
}

describe("the Dawn backend", () => {
  it("runs on Dawn's SwiftShader adapter, in this process", async () => {
    const adapter = await dawn.call<{ architecture: string; vendor: string }>("adapter");
    expect(adapter.architecture).toBe("swiftshader");
    expect(dawn.backend).toBe("dawn");
  });

  it("stories260K greedy from BOS: the published 256 tokens, and Chromium's tokens and logits exactly; the same bytes allocated", async () => {
    const onDawn = await greedy(dawn, "stories260K.gguf", 256);
    const inChromium = await greedy(chromium, "stories260K.gguf", 256);
    expect(onDawn.reply.output_ids).toEqual(published.ids_including_leading_bos.slice(1));
    expect(onDawn.reply.text).toBe(published.text);
    expect(onDawn.reply.output_ids).toEqual(inChromium.reply.output_ids);
    const worst = Math.max(...onDawn.reply.logits.map((row, i) => maxAbsDiff(row, inChromium.reply.logits[i]!)));
    console.log(`Dawn vs Chromium, stories260K: max |Δlogit| over 256 positions = ${worst}`);
    expect(worst).toBe(0); // same WGSL, same driver: bit-identical
    expect(onDawn.beforeUnload).toEqual(inChromium.beforeUnload);
  });

  it("stories260K Q8_0: Chromium's 48 greedy tokens", async () => {
    const onDawn = await greedy(dawn, "stories260K-q8_0.gguf", 48);
    const inChromium = await greedy(chromium, "stories260K-q8_0.gguf", 48);
    expect(onDawn.reply.output_ids).toHaveLength(48);
    expect(onDawn.reply.output_ids).toEqual(inChromium.reply.output_ids);
  });

  it("unload returns every byte; a bad request keeps its code", async () => {
    const loaded = await dawn.call<{ modelId: number }>("load", { url: dawn.publishFile(modelPath("stories260K.gguf")), options: {} });
    expect((await dawn.call<{ bytes: number }>("liveBytes")).bytes).toBeGreaterThan(1_000_000);
    await dawn.call("unload", { modelId: loaded.modelId });
    expect(await dawn.call("liveBytes")).toEqual({ bytes: 0, models: 0 });
    await expect(dawn.call("generate", { modelId: 12345, promptIds: [1], maxTokens: 1 })).rejects.toMatchObject({ code: "bad_request" });
    await expect(dawn.call("load", { url: dawn.publishFile("/nonexistent/model.gguf"), options: {} })).rejects.toMatchObject({ code: "source_error" });
  });

  it("webkv run --backend dawn: the published greedy continuation, with the memory report; no adapter is a one-line error", async () => {
    const bin = resolve(import.meta.dirname, "../../bin/webkv.js");
    const args = ["run", "--backend", "dawn", "--model", modelPath("stories260K.gguf"), "--prompt-ids", "1", "--max-tokens", "48", "--json"];
    const { stdout } = await promisify(execFile)(process.execPath, [bin, ...args], { maxBuffer: 1 << 24 });
    const run = JSON.parse(stdout) as { output_ids: number[]; adapter: { architecture: string }; memory: { relative_error: { total: number }; observed: unknown; observed_note: string } };
    expect(run.output_ids).toEqual(published.ids_including_leading_bos.slice(1, 49));
    expect(run.adapter.architecture).toBe("swiftshader");
    expect(run.memory.relative_error.total).toBe(0);
    expect(run.memory.observed).toBeNull();
    expect(run.memory.observed_note).toMatch(/Dawn backend runs in this process/);

    const failed = await promisify(execFile)(process.execPath, [bin, ...args], { env: { ...process.env, VK_ICD_FILENAMES: "/nonexistent/icd.json" } }).catch((error: { code: number; stderr: string }) => error);
    expect((failed as { code: number }).code).toBe(1);
    const ours = (failed as { stderr: string }).stderr.split("\n").filter((line) => line.startsWith("webkv"));
    expect(ours).toEqual([expect.stringMatching(/^webkv run: Dawn found no GPU adapter: .*libvulkan1.*VK_ICD_FILENAMES=\/nonexistent\/icd.json/)]);
  });
});
