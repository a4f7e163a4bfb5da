// Activations and attention scratch: buffers that live for one forward step, sized for the largest step.
// A step is either a prefill chunk of one sequence (T_p = min(prefillChunk, N) tokens; sequences are
// prefilled one at a time) or one decode step of every sequence (T_d = S tokens); T = max(T_p, T_d).
// Each buffer is allocated once and reused by every layer, so there is no × layers; they are summed without
// liveness analysis (an upper bound a simple runtime reaches). a = activation bytes (4: f32, WebGPU's portable type).
//
// activations = T × a × (h            residual stream
//                      + h            normed input
//                      + H_g·d_q      queries                    (MLA: + r_q query latent)
//                      + K_g·(d+d_v)  new keys and values        (MLA: r_kv + d_rope latent)
//                      + H_g·d_v      attention output
//                      + FFN)         gated: 2·f/t (gate, up); MoE: 2·(k·f_e + f_s)/t + E router logits + k·h expert outputs
//             + logits: rows × V/t × 4 B, rows = S (the last token of each sequence) or max(T_p, S) when scoring
//               every token (the vocab is split over the t GPUs)
// H_g = H/t and K_g = max(K/t, 1) are one GPU's heads.
//
// attention scratch (f32 scores, 4 B):
//   naive: the whole score matrix of one layer: H_g × T_p × N × 4 at prefill (= H_g × N² × 4 when the prompt
//          is prefilled in one chunk), and S × H_g × N × 4 at decode; the larger one.
//   flash: O(N): prefill keeps a running max and sum per query row (H_g × T_p × 2 × 4); decode splits the
//          keys into chunks of 256 and keeps one partial output per chunk: S × H_g × ceil(N/256) × (d_v + 2) × 4.

import { kvHeadsPerGpu } from "./weights.js";
import { queryHeadDim, valueHeadDim, type ModelDescription } from "./model.js";
import { formatBytes, formatCount } from "./units.js";

export interface StepSettings {
  context: number;
  sequences: number;
  prefillChunk: number;
  tp: number;
  activationBytes: number;
  logits: "last" | "all";
  attention: "flash" | "naive";
}

export interface NamedBytes {
  name: string;
  bytes: number;
}

export interface StepBytes {
  activations: number;
  attentionScratch: number;
  activationTerms: NamedBytes[];
  scratchTerms: NamedBytes[];
  /** Tokens in the largest step (T) and rows of logits, for the overhead terms. */
  stepTokens: number;
  logitRows: number;
  formulas: string[];
}

/** Keys per split-K chunk in flash decoding (a tile size; a runtime profile may differ). */
export const FLASH_DECODE_SPLIT = 256;

export function stepBytes(model: ModelDescription, s: StepSettings): StepBytes {
  const t = s.tp;
  const a = s.activationBytes;
  const h = model.hiddenSize;
  const headsGpu = model.heads / t;
  const dq = queryHeadDim(model);
  const dv = valueHeadDim(model);
  const prefillTokens = Math.min(s.prefillChunk, s.context);
  const stepTokens = Math.max(prefillTokens, s.sequences);
  const gated = model.ffnGated ?? true;
  const ffnMatrices = gated ? 2 : 1;

  const perToken: NamedBytes[] = [];
  const add = (name: string, elements: number) => perToken.push({ name, bytes: elements });
  add("residual stream", h);
  add("normed input", h);
  add("queries", headsGpu * dq + (model.mla?.qLoraRank ?? 0));
  if (model.mla) {
    add("new KV latent", model.mla.kvLoraRank + model.mla.qkRopeHeadDim);
  } else {
    add("new keys and values", kvHeadsPerGpu(model.kvHeads, t) * (model.headDim + dv));
  }
  add("attention output", headsGpu * dv);
  const denseFfn = model.moe && model.moe.denseLayersFirst === 0 ? 0 : ffnMatrices * Math.ceil(model.ffnSize / t);
  let moeFfn = 0;
  if (model.moe) {
    const m = model.moe;
    moeFfn = ffnMatrices * (m.expertsPerToken * Math.ceil(m.expertFfnSize / t) + Math.ceil(m.sharedFfnSize / t)) +
      m.experts + m.expertsPerToken * h;
  }
  add(moeFfn > denseFfn ? "MoE intermediates (routed + shared + router)" : "FFN intermediates", Math.max(denseFfn, moeFfn));

  const elementsPerToken = perToken.reduce((sum, term) => sum + term.bytes, 0);
  const activationTerms = perToken.map((term) => ({ name: term.name, bytes: term.bytes * stepTokens * a }));
  const logitRows = s.logits === "all" ? Math.max(prefillTokens, s.sequences) : s.sequences;
  const vocabGpu = Math.ceil(model.vocabSize / t);
  const logitBytes = logitRows * vocabGpu * 4;
  activationTerms.push({ name: "logits", bytes: logitBytes });
  const activations = activationTerms.reduce((sum, term) => sum + term.bytes, 0);

  const scratchTerms: NamedBytes[] = [];
  const scoreFormulas: string[] = [];
  if (s.attention === "naive") {
    const prefill = headsGpu * prefillTokens * s.context * 4;
    const decode = s.sequences * headsGpu * s.context * 4;
    scratchTerms.push({ name: prefill >= decode ? "prefill scores (one layer)" : "decode scores (one layer)", bytes: Math.max(prefill, decode) });
    scoreFormulas.push(
      `attention scratch (naive) = max(prefill ${formatCount(headsGpu)} heads × ${formatCount(prefillTokens)} queries × ` +
        `${formatCount(s.context)} keys × 4 B, decode ${s.sequences} × ${formatCount(headsGpu)} × ${formatCount(s.context)} × 4 B) = ` +
        formatBytes(Math.max(prefill, decode)),
    );
  } else {
    const partialWidth = model.mla ? model.mla.kvLoraRank : dv;
    const splits = Math.ceil(s.context / FLASH_DECODE_SPLIT);
    const prefill = headsGpu * prefillTokens * 2 * 4;
    const decode = s.sequences * headsGpu * splits * (partialWidth + 2) * 4;
    scratchTerms.push({ name: "prefill row max and sum", bytes: prefill });
    scratchTerms.push({ name: "decode split-K partials", bytes: decode });
    scoreFormulas.push(
      `attention scratch (flash) = ${formatCount(headsGpu)} heads × ${formatCount(prefillTokens)} queries × 2 × 4 B + ` +
        `${s.sequences} × ${formatCount(headsGpu)} heads × ${splits} splits of ${FLASH_DECODE_SPLIT} keys × (${partialWidth} + 2) × 4 B = ` +
        formatBytes(prefill + decode),
    );
  }
  const attentionScratch = scratchTerms.reduce((sum, term) => sum + term.bytes, 0);
  const formulas = [
    `activations = ${formatCount(stepTokens)} tokens (max of prefill chunk ${formatCount(prefillTokens)}, ${s.sequences} decoding) × ` +
      `${a} B × ${formatCount(elementsPerToken)} values per token (${perToken.map((p) => `${p.name} ${formatCount(p.bytes)}`).join(", ")}) ` +
      `+ logits ${logitRows} × ${formatCount(vocabGpu)} × 4 B = ${formatBytes(activations)}`,
    ...scoreFormulas,
  ];
  return { activations, attentionScratch, activationTerms, scratchTerms, stepTokens, logitRows, formulas };
}
