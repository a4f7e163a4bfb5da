// KV cache: the block pool as a grid — each used block colored by the sequence that owns it, shared
// (copy-on-write) blocks outlined, blocks still filling (a quantized format's full-precision tail) faded,
// sealed blocks solid — with utilization; redrawn while tokens arrive.

import type { KvMap } from "webkv";
import { COLORS } from "../chart.js";
import { h } from "../dom.js";
import { bytes } from "../format.js";
import { keepUpdated, state } from "../state.js";

export function renderKv(root: HTMLElement): void {
  const body = h("div", { id: "kv" }, h("p", {}, "load a model to see its KV cache"));
  root.append(h("div", { class: "row" }, h("button", { id: "kv-refresh", onclick: () => void update() }, "Refresh")), body);

  function draw(map: KvMap) {
    const byBlock = new Map(map.blocks.map((b) => [b.block, b]));
    const colorOf = (sequence: number) => COLORS[sequence % COLORS.length]!;
    const cells = Array.from({ length: map.blocksTotal }, (_, block) => {
      const info = byBlock.get(block);
      if (!info) return h("div", { dataset: { block: String(block), used: "false" }, title: `block ${block}: free` });
      const full = info.tokens === map.blockSize;
      const classes = [info.refCount > 1 ? "shared" : "", full ? "" : "tail"].filter(Boolean).join(" ");
      const kind = info.sealed ? "sealed" : full ? "full" : "filling";
      return h("div", {
        class: classes, style: `background:${colorOf(info.owners[0]!)}`,
        dataset: { block: String(block), used: "true", owners: info.owners.join(","), kind },
        title: `block ${block}: sequence ${info.owners.join(", ")}, ${info.tokens}/${map.blockSize} tokens, ${kind}${info.refCount > 1 ? `, shared ×${info.refCount}` : ""}`,
      });
    });
    body.replaceChildren(
      h("p", { id: "kv-summary" },
        `${map.blocksUsed} of ${map.blocksTotal} blocks used (${map.blockSize} tokens each, K ${map.format.k} / V ${map.format.v}), ` +
          `${map.sequences.length} sequence(s), ${map.sharedBlocks.length} shared, utilization ${(map.utilization * 100).toFixed(1)}% · pool ${bytes(map.bytes)}, tails ${bytes(map.tailBytes)}`),
      h("div", { class: "legend" },
        ...map.sequences.map((s) => h("span", {}, h("b", { style: `color:${colorOf(s.id)}` }, "■"), ` sequence ${s.id}: ${s.tokens} tokens in ${s.blocks.length} blocks${s.tailTokens ? `, ${s.tailTokens} in its full-precision tail` : ""}`)),
        h("span", {}, "outlined: shared · faded: block still filling · grey: free")),
      h("div", { class: "kv-grid", id: "kv-grid", role: "img", "aria-label": `KV block map: ${map.blocksUsed} of ${map.blocksTotal} blocks used` }, ...cells),
    );
    body.dataset.blocksUsed = String(map.blocksUsed);
  }

  async function update() {
    const engine = state.engine;
    if (!engine) return void body.replaceChildren(h("p", {}, "load a model to see its KV cache"));
    try {
      draw(await engine.kv());
    } catch {
      // unloaded meanwhile
    }
  }

  keepUpdated(root, update);
}
