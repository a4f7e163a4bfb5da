// webkv estimate: the analytical memory estimate for a model file or preset, as a readable breakdown,
// as JSON, or swept over contexts and KV formats (table + SVG chart). Exit codes: 0 ok, 2 bad input.
// The estimator itself is pure; reading the --model file (GGUF header or config.json) happens here.

import { readFile, writeFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { readGgufHeader } from "../gguf/reader.js";
import { fileSource } from "../gguf/node-source.js";
import {
  EstimatorError,
  estimate,
  formatBytes,
  formatCount,
  formatParams,
  fromGgufMetadata,
  fromHfConfig,
  parseByteSize,
  powersOfTwoBetween,
  preset,
  sweep,
  sweepSvg,
  sweepTable,
  type Estimate,
  type EstimateSettings,
  type ModelDescription,
  estimateLlamaCpp,
  estimateVllm,
  estimateWebLlm,
  GPU_CATALOG,
  parseGpus,
  planLlamaCpp,
  planVllm,
  RUNTIME_IDS,
  type LaunchPlan,
  type RuntimeEstimate,
} from "../estimator/index.js";

export const ESTIMATE_USAGE = [
  "usage: webkv estimate (--model <file.gguf|config.json> | --preset ID) --context N [options]",
  "       webkv estimate (--model ... | --preset ID) --sweep LOW..HIGH [--kv f16,int8,int4,int2] [--svg FILE] [options]",
  "options:",
  "  --context N          tokens per sequence (accepts 128K = 131072)",
  "  --sequences B        sequences cached at once (default 1)",
  "  --kv FMT             KV format for K and V: f32 f16 bf16 fp8 int8 int4 int2 nvfp4 q8_0 q4_0 (default f16)",
  "  --kv-k FMT, --kv-v FMT   one side only",
  "  --weights FMT        f32 f16 bf16 q8_0 q4_0 q4_1 q5_0 q5_1 q2_k..q8_k fp8 int8 int4-g128 int4-g128-zp mxfp4 nvfp4",
  "                       (default: a GGUF's own tensor types, else f16)",
  "  --block-size N       paged-KV block in tokens (default 16; 1 = not paged)",
  "  --attention flash|naive   (default flash)",
  "  --prefill-chunk N    tokens per prefill step (default 512)",
  "  --tp T               tensor-parallel GPUs (default 1); sizes are per GPU",
  "  --gpu-memory SIZE    e.g. 24GiB, 80GB: also print the longest context that fits",
  "  --json               one JSON object instead of the readable breakdown",
  "other runtimes (what that engine itself allocates; see docs/memory.md):",
  "  --runtime webkv|llamacpp|vllm|webllm   (default webkv)",
  "    llamacpp: --kv f16|q8_0|q4_0|q4_1|q5_0|q5_1|iq4_nl|bf16|f32, --flash-attention on|off (default on),",
  "              --sequences N (--parallel), --ubatch N (default 512), --repack avx2|none (default none), --weights TYPE",
  "    vllm:     --gpu-memory SIZE or --gpus 8xH100-80GB, --tp T, --gpu-memory-utilization F (default 0.9),",
  "              --kv auto|fp8, --block-size N, --weights FMT (default bf16), --max-num-batched-tokens N",
  "    webllm:   --weights q4f16_1|q4f32_1|q0f16|q0f32, --prefill-chunk N (default 1024)",
  "    --rope-scaling       allow a context beyond the model's trained length (llamacpp, vllm)",
  "launch settings: webkv estimate ... --context N --for vllm|llamacpp --gpus COUNTxGPU [--sequences N] [--kv TYPE]",
  "  prints the engine's command line that fits, or the failing constraint and by how much (exit 1)",
  "  GPUs: " + GPU_CATALOG.map((g) => g.id).join(", "),
];

class UsageError extends Error {}

/** "131072", "128K" (× 1024) or "1M" (× 1048576) → a positive integer. */
function parseCount(what: string, text: string): number {
  const match = /^\s*(\d+)\s*([kKmM]?)\s*$/.exec(text);
  if (!match) throw new UsageError(`${what} must be a whole number (like 4096 or 128K), got "${text}"`);
  const scale = match[2] === "" ? 1 : match[2]!.toLowerCase() === "k" ? 1024 : 1048576;
  return Number(match[1]) * scale;
}

function printRuntimeEstimate(e: RuntimeEstimate, out: (line: string) => void): void {
  out(`${e.model} on ${e.runtime}: ` + Object.entries(e.settings).map(([k, v]) => `${k} ${v}`).join(", "));
  for (const [name, bytes] of Object.entries(e.bytes)) out(`  ${name.replace(/_/g, " ").padEnd(18)} ${formatBytes(bytes)}`);
  for (const [name, value] of Object.entries(e.figures)) out(`  ${name.replace(/_/g, " ").padEnd(18)} ${formatCount(Math.round(value * 100) / 100)}`);
  out("arithmetic:");
  for (const formula of e.formulas) out(`  ${formula}`);
  if (e.notes.length > 0) {
    out("notes:");
    for (const note of e.notes) out(`  - ${note}`);
  }
}

function printPlan(plan: LaunchPlan, out: (line: string) => void): void {
  if (plan.command) out(plan.command);
  for (const line of plan.lines) out(`  ${line}`);
}

function onOff(what: string, text: string | undefined): boolean | undefined {
  if (text === undefined) return undefined;
  if (text === "on") return true;
  if (text === "off") return false;
  throw new UsageError(`${what} must be on or off, got "${text}"`);
}

async function loadModel(path: string): Promise<ModelDescription> {
  if (path.toLowerCase().endsWith(".gguf")) {
    const source = await fileSource(path);
    try {
      const header = await readGgufHeader(source);
      const tensors = header.tensors.map((t) => ({ name: t.name, dims: t.dims, type: t.type as number, offset: t.relativeOffset }));
      return fromGgufMetadata(Object.fromEntries(header.metadata), tensors);
    } finally {
      await source.close?.();
    }
  }
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw new UsageError(`cannot read ${path}: ${(error as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${path} is neither a .gguf file nor valid JSON: ${(error as Error).message}`);
  }
  return fromHfConfig(json, path);
}

function printEstimate(e: Estimate, out: (line: string) => void): void {
  const s = e.settings;
  const perGpu = s.tp > 1 ? ` per GPU (tp ${s.tp})` : "";
  out(`${e.model} (${e.attention_kind}): context ${formatCount(s.context)} × ${s.sequences} sequence${s.sequences === 1 ? "" : "s"}, ` +
    `weights ${s.weight_format}, KV ${s.kv_k_format}/${s.kv_v_format}, blocks of ${s.block_size}, ${s.attention} attention`);
  const active = e.params.active === e.params.total ? "" : `, ${formatParams(e.params.active)} active`;
  out(`  params             ${formatParams(e.params.total)}${active} (${formatCount(e.params.total)})`);
  const rows: [string, number][] = [
    ["weights", e.bytes.weights], ["kv cache", e.bytes.kv], ["activations", e.bytes.activations],
    ["attention scratch", e.bytes.attention_scratch], ["overhead", e.bytes.overhead], ["total", e.bytes.total],
  ];
  for (const [name, bytes] of rows) out(`  ${name.padEnd(18)} ${formatBytes(bytes)}${name === "total" ? perGpu : ""}`);
  out(`  kv per token       ${formatCount(e.kv_bytes_per_token)} B${perGpu}`);
  if (e.max_context !== undefined) {
    out(`  max context        ${formatCount(e.max_context)} tokens per sequence fit in ${formatBytes(s.gpu_memory ?? 0)}${perGpu}`);
  }
  out("arithmetic:");
  for (const formula of e.formulas) out(`  ${formula}`);
  if (e.notes.length > 0) {
    out("notes:");
    for (const note of e.notes) out(`  - ${note}`);
  }
}

export async function estimateCommand(argv: string[], out: (line: string) => void): Promise<number> {
  try {
    const { values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        model: { type: "string" },
        preset: { type: "string" },
        context: { type: "string" },
        sequences: { type: "string" },
        kv: { type: "string" },
        "kv-k": { type: "string" },
        "kv-v": { type: "string" },
        weights: { type: "string" },
        "block-size": { type: "string" },
        attention: { type: "string" },
        "prefill-chunk": { type: "string" },
        "gpu-memory": { type: "string" },
        tp: { type: "string" },
        json: { type: "boolean" },
        runtime: { type: "string" },
        for: { type: "string" },
        gpus: { type: "string" },
        "gpu-memory-utilization": { type: "string" },
        "flash-attention": { type: "string" },
        ubatch: { type: "string" },
        repack: { type: "string" },
        "max-num-batched-tokens": { type: "string" },
        "rope-scaling": { type: "boolean" },
        sweep: { type: "string" },
        svg: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    });
    if (values.help) {
      for (const line of ESTIMATE_USAGE) out(line);
      return 0;
    }
    if ((values.model === undefined) === (values.preset === undefined)) {
      throw new UsageError("give exactly one of --model <file> or --preset ID");
    }
    const model = values.preset !== undefined ? preset(values.preset) : await loadModel(values.model!);
    const runtime = values.runtime ?? "webkv";
    if (!(RUNTIME_IDS as readonly string[]).includes(runtime)) throw new UsageError(`--runtime must be one of ${RUNTIME_IDS.join(", ")}, got "${runtime}"`);
    if (values.for !== undefined || runtime !== "webkv") {
      if (values.sweep !== undefined) throw new UsageError("--sweep works with the webkv runtime only");
      if (values.context === undefined) throw new UsageError("--context N is required");
      const context = parseCount("--context", values.context);
      const sequences = values.sequences !== undefined ? parseCount("--sequences", values.sequences) : undefined;
      const gpus = values.gpus !== undefined ? parseGpus(values.gpus) : undefined;
      const ropeScaling = values["rope-scaling"] ?? false;
      if (values.for !== undefined) {
        if (!gpus) throw new UsageError("--for needs --gpus, e.g. --gpus 8xH100-80GB");
        const modelRef = values.model ?? values.preset!;
        let plan: LaunchPlan;
        if (values.for === "vllm") {
          plan = planVllm(model, { context, gpus, sequences, ropeScaling, modelRef, ...(values.weights ? { weightFormat: values.weights } : {}), ...(values.kv ? { kvCacheDtype: values.kv } : {}) });
        } else if (values.for === "llamacpp") {
          plan = planLlamaCpp(model, { context, gpus, sequences, ropeScaling, modelRef, ...(values.weights ? { weightFormat: values.weights } : {}), ...(values.kv ? { kvCacheType: values.kv } : {}) });
        } else {
          throw new UsageError(`--for must be vllm or llamacpp, got "${values.for}"`);
        }
        if (values.json) out(JSON.stringify(plan));
        else printPlan(plan, out);
        return plan.fits ? 0 : 1;
      }
      let result: RuntimeEstimate;
      if (runtime === "llamacpp") {
        const repack = values.repack ?? "none";
        if (repack !== "avx2" && repack !== "none") throw new UsageError(`--repack must be avx2 or none, got "${repack}"`);
        result = estimateLlamaCpp(model, {
          context, sequences, ropeScaling, repack,
          kvK: values["kv-k"] ?? values.kv ?? "f16", kvV: values["kv-v"] ?? values.kv ?? "f16",
          flashAttention: onOff("--flash-attention", values["flash-attention"]) ?? true,
          ...(values.ubatch !== undefined ? { ubatch: parseCount("--ubatch", values.ubatch) } : {}),
          ...(values.weights ? { weightFormat: values.weights } : {}),
        });
      } else if (runtime === "vllm") {
        const gpuMemory = values["gpu-memory"] !== undefined ? parseByteSize(values["gpu-memory"]) : gpus?.gpu.memory;
        if (gpuMemory === undefined) throw new UsageError("--runtime vllm needs --gpu-memory SIZE or --gpus COUNTxGPU");
        const util = values["gpu-memory-utilization"] !== undefined ? Number(values["gpu-memory-utilization"]) : undefined;
        if (util !== undefined && !(util > 0 && util <= 1)) throw new UsageError(`--gpu-memory-utilization must be in (0, 1], got "${values["gpu-memory-utilization"]}"`);
        result = estimateVllm(model, {
          maxModelLen: context, gpuMemory, ropeScaling,
          tp: values.tp !== undefined ? parseCount("--tp", values.tp) : (gpus?.count ?? 1),
          ...(util !== undefined ? { gpuMemoryUtilization: util } : {}),
          ...(values.kv ? { kvCacheDtype: values.kv } : {}),
          ...(values["block-size"] !== undefined ? { blockSize: parseCount("--block-size", values["block-size"]) } : {}),
          ...(values.weights ? { weightFormat: values.weights } : {}),
          ...(values["max-num-batched-tokens"] !== undefined ? { maxNumBatchedTokens: parseCount("--max-num-batched-tokens", values["max-num-batched-tokens"]) } : {}),
        });
      } else {
        result = estimateWebLlm(model, {
          context, quantization: values.weights ?? "q4f16_1",
          ...(values["prefill-chunk"] !== undefined ? { prefillChunk: parseCount("--prefill-chunk", values["prefill-chunk"]) } : {}),
        });
      }
      if (values.json) out(JSON.stringify(result));
      else printRuntimeEstimate(result, out);
      return 0;
    }
    const attention = values.attention ?? "flash";
    if (attention !== "flash" && attention !== "naive") throw new UsageError(`--attention must be flash or naive, got "${attention}"`);
    const settings: Omit<EstimateSettings, "context"> = {
      ...(values.sequences !== undefined ? { sequences: parseCount("--sequences", values.sequences) } : {}),
      ...(values.weights !== undefined ? { weightFormat: values.weights } : {}),
      ...(values["kv-k"] !== undefined ? { kvKFormat: values["kv-k"] } : {}),
      ...(values["kv-v"] !== undefined ? { kvVFormat: values["kv-v"] } : {}),
      ...(values["block-size"] !== undefined ? { blockSize: parseCount("--block-size", values["block-size"]) } : {}),
      ...(values["prefill-chunk"] !== undefined ? { prefillChunk: parseCount("--prefill-chunk", values["prefill-chunk"]) } : {}),
      ...(values.tp !== undefined ? { tp: parseCount("--tp", values.tp) } : {}),
      attention,
    };

    if (values.sweep !== undefined) {
      const range = /^\s*(\w+)\s*\.\.\s*(\w+)\s*$/.exec(values.sweep);
      if (!range) throw new UsageError(`--sweep must look like 1024..131072, got "${values.sweep}"`);
      const contexts = powersOfTwoBetween(parseCount("--sweep low", range[1]!), parseCount("--sweep high", range[2]!));
      const formats = (values.kv ?? "f16,int8,int4,int2").split(",").map((f) => f.trim()).filter(Boolean);
      if (formats.length === 0) throw new UsageError("--kv lists no format");
      const series = sweep(model, settings, contexts, formats);
      const title = `${model.name}: GPU memory vs context` + (settings.tp && settings.tp > 1 ? ` (per GPU, tp ${settings.tp})` : "");
      if (values.json) {
        out(JSON.stringify({ model: model.name, contexts, series }));
      } else {
        out(title);
        for (const line of sweepTable(series)) out(line);
      }
      if (values.svg !== undefined) {
        await writeFile(values.svg, sweepSvg(series, title), "utf8");
        if (!values.json) out(`wrote ${values.svg}`);
      }
      return 0;
    }
    if (values.svg !== undefined) throw new UsageError("--svg needs --sweep");
    if (values.context === undefined) throw new UsageError("--context N is required (or --sweep LOW..HIGH)");
    const result = estimate(model, {
      ...settings,
      context: parseCount("--context", values.context),
      ...(values.kv !== undefined ? { kvFormat: values.kv } : {}),
      ...(values["gpu-memory"] !== undefined ? { gpuMemory: parseByteSize(values["gpu-memory"]) } : {}),
    });
    if (values.json) out(JSON.stringify(result));
    else printEstimate(result, out);
    return 0;
  } catch (error) {
    const known = error instanceof EstimatorError || error instanceof UsageError ||
      (error instanceof Error && (error.name === "GgufError" || (error as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")));
    if (!known) throw error;
    out(`webkv estimate: ${(error as Error).message}`);
    out(ESTIMATE_USAGE[0]!);
    return 2;
  }
}
