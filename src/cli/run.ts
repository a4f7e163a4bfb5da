// webkv run: generate from a prompt (text or ids) in headless Chromium, streaming text to stdout, or
// one JSON object with --json.

import type { AdapterReport, KvReport } from "../app/runtime.js";
import type { MemorySnapshot } from "../gpu/memory.js";
import type { GenerateTimings } from "../engine/generate.js";
import { withModelInBrowser } from "./browser-model.js";
import { BROWSER_OPTIONS, MODEL_OPTIONS, SAMPLING_OPTIONS, choiceOption, idListOption, intOption, parse, samplingFrom, UsageError, type ParsedValues } from "./options.js";
import { memoryReport, predictRun } from "./memory-report.js";
import { formatBytes, memoryTable } from "./report.js";
import { chatTurn, describeTurn, readMessagesFile } from "./chat.js";

export const RUN_USAGE = `webkv run --model <path|url|name> [--prompt TEXT | --prompt-ids 1,2,3 | --messages CHAT.json] [--max-tokens N]
           [--temperature T] [--top-k K] [--top-p P] [--seed S] [--parallel N] [--json]
           [--attention flash|naive] [--block-size N] [--kv-budget BYTES|FRACTION | --kv-blocks N]
           [--kv-policy refuse|preempt] [--max-step-tokens N] [--max-seqs N] [--context N]
           [--backend chromium|dawn] [--chromium PATH] [--gpu swiftshader|real] [--headed]`;

interface GenerateReply {
  prompt_ids: number[];
  output_ids: number[];
  text: string;
  stop_reason: string;
  outputs: { output_ids: number[]; text: string; stop_reason: string }[];
  timings: GenerateTimings;
  memory: MemorySnapshot;
  kv: KvReport;
  error?: string;
}

export async function runCommand(argv: string[], out: (text: string) => void, err: (text: string) => void): Promise<number> {
  const { values } = parse(argv, {
    ...BROWSER_OPTIONS,
    ...MODEL_OPTIONS,
    ...SAMPLING_OPTIONS,
    prompt: { type: "string", short: "p" },
    "prompt-ids": { type: "string" },
    "max-tokens": { type: "string", short: "n" },
    parallel: { type: "string" },
    "kv-policy": { type: "string" },
    bos: { type: "boolean" },
    "no-bos": { type: "boolean" },
    messages: { type: "string" },
  });
  const promptKinds = ["prompt", "prompt-ids", "messages"].filter((name) => values[name] !== undefined);
  if (promptKinds.length > 1) throw new UsageError(`give one of --prompt, --prompt-ids, --messages, not ${promptKinds.map((k) => `--${k}`).join(" and ")}`);
  if (typeof values.messages === "string") return chatOnce(values, out, err);
  const promptIds = idListOption(values, "prompt-ids");
  const sampling = samplingFrom(values);
  const maxTokens = intOption(values, "max-tokens", 0, 128)!;
  const parallel = intOption(values, "parallel", 1, 1)!;
  const policy = choiceOption(values, "kv-policy", ["refuse", "preempt"] as const, "refuse");
  const json = values.json === true;
  const stream = !json && parallel === 1;

  return withModelInBrowser(values, async ({ session, loaded, modelPath, observed, onInterrupt }) => {
    let streamed = false;
    // Ctrl-C ends the generation after its current step; what was produced is printed (JSON too), exit 130.
    let interrupted = false;
    onInterrupt(() => {
      if (interrupted) process.exit(130); // a second Ctrl-C does not wait
      interrupted = true;
      void session.call("stop").catch(() => undefined);
    });
    if (stream && typeof values.prompt === "string") out(values.prompt);
    const unsubscribe = session.onEvent((event) => {
      if (event.type === "token" && stream) {
        out(event.text);
        streamed = true;
      }
    });
    const reply = await session.call<GenerateReply>("generate", {
      modelId: loaded.modelId,
      prompt: promptIds ? undefined : ((values.prompt as string | undefined) ?? ""),
      promptIds,
      addBos: values["no-bos"] ? false : values.bos ? true : undefined,
      maxTokens,
      ...sampling,
      parallel,
      policy,
      stream,
    });
    unsubscribe();
    const outside = await observed();
    const predicted = await predictRun(modelPath, loaded, { promptTokens: reply.prompt_ids.length, generatedTokens: reply.output_ids.length });
    const memory = memoryReport(reply.memory, predicted, outside);
    const timings = { load_ms: loaded.load_ms, ...reply.timings };
    const adapter: Pick<AdapterReport, "vendor" | "architecture" | "description"> = {
      vendor: loaded.adapter.vendor,
      architecture: loaded.adapter.architecture,
      description: loaded.adapter.description,
    };
    if (json) {
      out(
        JSON.stringify({
          prompt_ids: reply.prompt_ids,
          output_ids: reply.output_ids,
          text: reply.text,
          stop_reason: reply.stop_reason,
          timings,
          adapter,
          model: loaded.config,
          ...(parallel > 1 ? { outputs: reply.outputs } : {}),
          kv: reply.kv,
          memory,
          ...(reply.error ? { error: reply.error } : {}),
        }) + "\n",
      );
      return interrupted ? 130 : reply.error ? 1 : 0;
    }
    if (streamed) out("\n");
    if (parallel > 1) {
      reply.outputs.forEach((o, i) => out(`--- continuation ${i + 1} (${o.stop_reason})\n${values.prompt ?? ""}${o.text}\n`));
    }
    if (reply.error) err(`\n${reply.error}\n`);
    err(
      `\n${reply.prompt_ids.length} prompt tokens, ${reply.output_ids.length} generated (${reply.stop_reason}) · ` +
        `load ${timings.load_ms.toFixed(0)} ms · prefill ${timings.prefill_tok_s.toFixed(1)} tok/s · decode ${timings.decode_tok_s.toFixed(1)} tok/s\n` +
        `adapter: ${adapter.vendor} ${adapter.architecture} ${adapter.description}\n` +
        `KV: ${formatBytes(reply.kv.bytes)} pool, ${reply.kv.blocks_total} blocks of ${reply.kv.block_size} tokens, ` +
        `${reply.kv.blocks_used} used at peak, utilization ${(reply.kv.utilization * 100).toFixed(1)}%\n` +
        `GPU memory — measured by webkv's allocator, predicted by the estimator, observed in the GPU process:\n` +
        memoryTable(memory) + "\n",
    );
    return interrupted ? 130 : reply.error ? 1 : 0;
  }, parallel);
}

/** webkv run --messages FILE.json: one chat turn over the file's conversation, through the model's template. */
async function chatOnce(values: ParsedValues, out: (text: string) => void, err: (text: string) => void): Promise<number> {
  if (values.parallel !== undefined) throw new UsageError("--parallel does not apply to --messages");
  if (values.bos || values["no-bos"]) throw new UsageError("--bos / --no-bos do not apply to --messages: the chat template decides");
  const messages = await readMessagesFile(values.messages as string);
  const sampling = samplingFrom(values);
  const maxTokens = intOption(values, "max-tokens", 0, 128)!;
  const json = values.json === true;
  return withModelInBrowser(values, async ({ session, loaded, modelPath, observed }) => {
    const { chatId } = await session.call<{ chatId: number }>("chatOpen", { modelId: loaded.modelId });
    const reply = await chatTurn(session, loaded.modelId, chatId, messages, { maxTokens, ...sampling }, json ? undefined : out);
    const memorySnapshot = await session.call<MemorySnapshot>("memory", { modelId: loaded.modelId });
    const outside = await observed();
    const predicted = await predictRun(modelPath, loaded, { promptTokens: reply.usage.prompt_tokens, generatedTokens: reply.output_ids.length });
    const memory = memoryReport(memorySnapshot, predicted, outside);
    if (json) {
      out(JSON.stringify({
        messages, output_ids: reply.output_ids, text: reply.text, stop_reason: reply.stop_reason, usage: reply.usage,
        timings: { load_ms: loaded.load_ms, ...reply.timings }, model: loaded.config, kv: reply.kv, memory,
      }) + "\n");
      return 0;
    }
    out("\n");
    err(`\n${describeTurn(reply)} · load ${loaded.load_ms.toFixed(0)} ms\n` + memoryTable(memory) + "\n");
    return 0;
  });
}
