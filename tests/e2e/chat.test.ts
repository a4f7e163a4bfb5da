// Chat on a synthetic ChatML model (qwen2 layout, F32 weights and KV): a conversation keeps its KV cache
// between turns, so the second turn prefills only its new tokens — and its reply equals a one-shot run over
// the whole conversation. Then the CLI as a user drives it: `webkv run --messages` and `webkv chat` with a
// piped conversation.

import { execFile, spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeGgufFile } from "../../src/gguf/node-writer.js";
import { syntheticLlama } from "../../src/gguf/synthetic.js";
import { GgmlType } from "../../src/gguf/types.js";
import { useBrowserSession } from "../helpers/browser.js";

const session = useBrowserSession();
const tempDir = await mkdtemp(join(tmpdir(), "webkv-chat-"));
const modelPath = join(tempDir, "chatml-qwen2.gguf");
const bin = resolve(import.meta.dirname, "../../bin/webkv.js");
afterAll(() => rm(tempDir, { recursive: true, force: true }));

beforeAll(async () => {
  const shape = { architecture: "qwen2" as const, dim: 128, layers: 2, heads: 4, kvHeads: 2, ffn: 256, vocab: 600, contextLength: 512 };
  const model = syntheticLlama(shape, { seed: 5, weightType: GgmlType.F32, chatml: true });
  await writeGgufFile(modelPath, model.metadata, model.tensors);
});

interface TurnReply {
  output_ids: number[];
  text: string;
  stop_reason: string;
  usage: { prompt_tokens: number; cached_tokens: number; prefilled_tokens: number; completion_tokens: number };
}

const system = { role: "system", content: "you are a test" } as const;
const first = { role: "user", content: "hello there" } as const;
const second = { role: "user", content: "and what next" } as const;

describe("multi-turn chat keeps its KV cache", () => {
  it("turn 2 prefills only its new tokens and equals a one-shot run over the whole conversation", async () => {
    const { modelId } = await session().call<{ modelId: number }>("load", { url: session().publishFile(modelPath) });
    const { chatId } = await session().call<{ chatId: number }>("chatOpen", { modelId });
    const turn = (id: number, messages: unknown[]) => session().call<TurnReply>("chatTurn", { modelId, chatId: id, messages, maxTokens: 12 });
    const one = await turn(chatId, [system, first]);
    expect(one.usage.cached_tokens).toBe(0);
    expect(one.usage.prefilled_tokens).toBe(one.usage.prompt_tokens);
    const conversation = [system, first, { role: "assistant", content: one.text }, second];
    const two = await turn(chatId, conversation);
    // everything up to the first reply was cached; only the reply's end marker and the new user turn were computed
    expect(two.usage.cached_tokens).toBeGreaterThanOrEqual(one.usage.prompt_tokens);
    expect(two.usage.prefilled_tokens).toBe(two.usage.prompt_tokens - two.usage.cached_tokens);
    expect(two.usage.prefilled_tokens).toBeLessThan(two.usage.prompt_tokens / 2);

    const fresh = await session().call<{ chatId: number }>("chatOpen", { modelId });
    const oneShot = await turn(fresh.chatId, conversation);
    expect(oneShot.usage.cached_tokens).toBe(0);
    expect(oneShot.usage.prompt_tokens).toBe(two.usage.prompt_tokens);
    expect(two.output_ids).toEqual(oneShot.output_ids);
    console.log(`turn 1: ${JSON.stringify(one.usage)}; turn 2: ${JSON.stringify(two.usage)}; one-shot: ${JSON.stringify(oneShot.usage)}`);
    await session().call("unload", { modelId });
  });

  it("greedy replies chain their steps (the next queued before this one's id is back): the same replies and cache as unchained", async () => {
    const run = async (chainDepth: number) => {
      const { modelId } = await session().call<{ modelId: number }>("load", { url: session().publishFile(modelPath), options: { tuning: { chainDepth } } });
      const { chatId } = await session().call<{ chatId: number }>("chatOpen", { modelId });
      await session().call("counters", { modelId });
      const turn = (messages: unknown[], maxTokens: number) => session().call<TurnReply>("chatTurn", { modelId, chatId, messages, maxTokens });
      const one = await turn([system, first], 20);
      const two = await turn([system, first, { role: "assistant", content: one.text }, second], 7);
      // a third turn repeating the second's prompt reuses exactly what the second left in the cache
      const three = await turn([system, first, { role: "assistant", content: one.text }, second], 7);
      const counters = await session().call<{ steps: number; chained: number }>("counters", { modelId });
      await session().call("unload", { modelId });
      return { replies: [one, two, three], counters };
    };
    const chained = await run(2);
    const unchained = await run(1);
    expect(chained.replies.map((r) => r.output_ids)).toEqual(unchained.replies.map((r) => r.output_ids));
    expect(chained.replies.map((r) => r.usage)).toEqual(unchained.replies.map((r) => r.usage));
    expect(chained.replies.map((r) => r.stop_reason)).toEqual(unchained.replies.map((r) => r.stop_reason));
    expect(unchained.counters.chained).toBe(0);
    // every decode step of a reply but its first is chained: a reply of n ids runs n − 1 decode steps (its last id
    // needs none), n − 2 of them chained (one more, rolled back, where the reply ended on an end-of-generation id)
    const expected = chained.replies.reduce((sum, r) => sum + Math.max(0, r.usage.completion_tokens - 2), 0);
    expect(expected).toBeGreaterThan(0);
    expect(chained.counters.chained).toBeGreaterThanOrEqual(expected);
    expect(chained.counters.chained).toBeLessThanOrEqual(expected + 3);
    console.log(`chained chat: ${chained.counters.chained} of ${chained.counters.steps} steps chained; usage ${JSON.stringify(chained.replies.map((r) => r.usage))}`);
  });

  it("a model without a chat template is a named error", async () => {
    const plain = join(tempDir, "plain.gguf");
    const model = syntheticLlama({ dim: 64, layers: 1, heads: 2, kvHeads: 2, ffn: 128, vocab: 300, contextLength: 64 }, { seed: 1, weightType: GgmlType.F32 });
    await writeGgufFile(plain, model.metadata, model.tensors);
    const { modelId } = await session().call<{ modelId: number }>("load", { url: session().publishFile(plain) });
    await expect(session().call("chatOpen", { modelId })).rejects.toThrow(/chat template/i);
    await session().call("unload", { modelId });
  });
});

const exec = promisify(execFile);

describe("the CLI", () => {
  it("webkv run --messages FILE --json: one chat turn through the template, with token counts", async () => {
    const file = join(tempDir, "messages.json");
    await writeFile(file, JSON.stringify([system, first]));
    const { stdout } = await exec("node", [bin, "run", "--model", modelPath, "--messages", file, "--max-tokens", "6", "--json"], { timeout: 120_000 });
    const result = JSON.parse(stdout);
    expect(result.output_ids.length).toBeGreaterThan(0);
    expect(result.usage.prompt_tokens).toBeGreaterThan(5);
    expect(result.usage.cached_tokens).toBe(0);
    expect(result.memory.measured.weights.live).toBeGreaterThan(0);
  });

  it("a messages file with an unknown role is a usage error (exit 2, one line)", async () => {
    const file = join(tempDir, "bad.json");
    await writeFile(file, JSON.stringify([{ role: "robot", content: "x" }]));
    const failure = await exec("node", [bin, "run", "--model", modelPath, "--messages", file], { timeout: 60_000 }).catch((e) => e);
    expect(failure.code).toBe(2);
    expect(failure.stderr.trim().split("\n")).toHaveLength(1);
    expect(failure.stderr).toMatch(/^webkv run: --messages .*role "robot"/);
  });

  it("webkv chat: a piped two-turn conversation, the second turn served from the cache", async () => {
    const child = spawn("node", [bin, "chat", "--model", modelPath, "--max-tokens", "5"], { stdio: ["pipe", "pipe", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.stdin.end("hello there\nand what next\n");
    const code = await new Promise<number>((done) => child.on("close", (c) => done(c ?? -1)));
    expect(code).toBe(0);
    const turns = [...stderr.matchAll(/\[(\d+) prompt tokens \((\d+) cached, (\d+) prefilled\)/g)].map((m) => m.slice(1).map(Number));
    expect(turns).toHaveLength(2);
    expect(turns[0]![1]).toBe(0);
    expect(turns[1]![1]).toBeGreaterThanOrEqual(turns[0]![0]!);
  });

  it("webkv chat: Ctrl-C stops a reply, not the program; the next turn still runs", async () => {
    const child = spawn("node", [bin, "chat", "--model", modelPath, "--max-tokens", "100000", "--temperature", "1", "--seed", "3"], { stdio: ["pipe", "pipe", "pipe"] });
    let stderr = "";
    let stdout = "";
    child.stderr.on("data", (chunk) => (stderr += chunk));
    const firstTokens = new Promise<void>((started) => child.stdout.on("data", (chunk) => ((stdout += chunk), stdout.length > 20 && started())));
    child.stdin.write("tell me everything\n");
    await firstTokens;
    child.kill("SIGINT");
    await expect.poll(() => stderr, { timeout: 60_000 }).toMatch(/generated \(stopped\)/);
    child.stdin.end("and now briefly\n");
    const code = await new Promise<number>((done) => child.on("close", (c) => done(c ?? -1)));
    expect(code).toBe(0);
    expect([...stderr.matchAll(/prompt tokens/g)]).toHaveLength(2);
  });
});
