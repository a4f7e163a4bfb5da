// Estimator: any model — a preset, a GGUF URL (its header only, through Range requests), a local GGUF, or a
// Hugging Face config.json — × context × KV format × sequences → bytes per category, the longest context
// that fits a given memory, and total memory against context per KV format as a chart.

import { describeGgufFile, describeGgufUrl, estimate, fromHfConfig, PRESETS, type ModelDescription } from "webkv";
import { COLORS, lineChart } from "../chart.js";
import { h, labeled, table } from "../dom.js";
import { bytes } from "../format.js";
import { clearError, showError } from "../state.js";

export function renderEstimator(root: HTMLElement): void {
  const kind = h("select", { id: "est-source" }, ...["preset", "GGUF URL", "GGUF file", "config.json"].map((k) => h("option", { value: k }, k)));
  const presetSelect = h("select", { id: "est-preset" }, ...Object.keys(PRESETS).map((id) => h("option", { value: id }, id)));
  const url = h("input", { id: "est-url", type: "url", size: 40, placeholder: "https://…/model.gguf" });
  const file = h("input", { id: "est-file", type: "file", accept: ".gguf" });
  const config = h("textarea", { id: "est-config", rows: 4, cols: 50, placeholder: "paste a config.json" });
  const context = h("input", { id: "est-context", type: "number", min: "1", value: "4096", size: 7 });
  const kv = h("select", { id: "est-kv" }, ...["f32", "f16", "int8", "int4", "int2"].map((f) => h("option", { value: f, selected: f === "f16" }, f)));
  const sequences = h("input", { id: "est-sequences", type: "number", min: "1", value: "1", size: 4 });
  const memory = h("input", { id: "est-memory", type: "number", min: "0", step: "0.5", value: "8", size: 5 });
  const go = h("button", { id: "est-run", type: "submit" }, "Estimate");
  const out = h("div", { id: "est-result" });

  const sourceFields = { preset: presetSelect, "GGUF URL": url, "GGUF file": file, "config.json": config } as Record<string, HTMLElement>;
  const sourceBox = h("div", { class: "row" });
  const showSource = () => sourceBox.replaceChildren(labeled(kind.value, sourceFields[kind.value]!));
  kind.addEventListener("change", showSource);
  showSource();

  async function model(): Promise<ModelDescription> {
    switch (kind.value) {
      case "GGUF URL":
        return describeGgufUrl(url.value);
      case "GGUF file": {
        const chosen = file.files?.[0];
        if (!chosen) throw new Error("choose a GGUF file");
        return describeGgufFile(chosen);
      }
      case "config.json":
        return fromHfConfig(JSON.parse(config.value));
      default:
        return PRESETS[presetSelect.value]!;
    }
  }

  async function run() {
    clearError();
    try {
      const described = await model();
      const settings = { context: Number(context.value), kvFormat: kv.value, sequences: Number(sequences.value), gpuMemory: Number(memory.value) * 1024 ** 3 };
      const result = estimate(described, settings);
      const b = result.bytes;
      const contexts: number[] = [];
      for (let c = 256; c <= Math.max(512, described.contextLength); c *= 2) contexts.push(c);
      const formats = ["f16", "int8", "int4"];
      const chart = lineChart(
        formats.map((format, i) => ({ name: `${format} KV`, color: COLORS[i]!, points: contexts.map((c) => ({ x: c, y: estimate(described, { ...settings, context: c, kvFormat: format, gpuMemory: undefined }).bytes.total })) })),
        { yLabel: "total bytes", format: bytes },
      );
      out.replaceChildren(
        h("p", {}, `${result.model}: ${described.layers} layers, ${described.heads} heads (${described.kvHeads} KV), head dim ${described.headDim}, context ${described.contextLength}`),
        table(["category", "bytes", ""], [
          ["weights", bytes(b.weights), b.weights], ["kv", bytes(b.kv), b.kv], ["activations", bytes(b.activations), b.activations],
          ["attention scratch", bytes(b.attention_scratch), b.attention_scratch], ["overhead", bytes(b.overhead), b.overhead], ["total", bytes(b.total), b.total],
        ], "est-table"),
        h("p", { id: "est-max-context" }, `longest context in ${memory.value} GiB at ${kv.value} KV × ${sequences.value} sequence(s): ${result.max_context ?? "—"} tokens`),
        h("figure", {}, h("figcaption", {}, "total memory vs context"), chart),
      );
    } catch (error) {
      showError(error);
    }
  }

  root.append(
    h("form", { onsubmit: (event: Event) => { event.preventDefault(); void run(); } },
      h("div", { class: "row" }, labeled("model from", kind)),
      sourceBox,
      h("div", { class: "row" }, labeled("context", context), labeled("KV format", kv), labeled("sequences", sequences), labeled("memory (GiB)", memory), go)),
    out,
  );
}
