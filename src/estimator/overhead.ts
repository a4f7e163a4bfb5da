// Runtime overhead beside weights, KV and step buffers — small, but each term named:
//   block tables     S × ceil(N / B) × 4 B           one u32 block id per cached block of each sequence
//   token inputs     T × 2 × 4 B                      token ids and positions of the largest step
//   logits readback  rows × V × 4 B                   a mappable copy of the logits for sampling on the CPU
//   upload staging   min(stagingBytes, largest tensor) weights go up through one reused staging buffer
// plus `reserveBytes`, an explicit allowance the caller may add (allocator slack, other tenants).

import type { NamedBytes } from "./activations.js";
import { formatBytes, formatCount } from "./units.js";

export interface OverheadSettings {
  context: number;
  sequences: number;
  blockSize: number;
  stepTokens: number;
  logitRows: number;
  vocabSize: number;
  largestTensorBytes: number;
  stagingBytes: number;
  reserveBytes: number;
}

export function overheadBytes(s: OverheadSettings): { bytes: number; terms: NamedBytes[]; formula: string } {
  const blocks = Math.ceil(s.context / s.blockSize);
  const staging = Math.min(s.stagingBytes, s.largestTensorBytes);
  const terms: NamedBytes[] = [
    { name: "block tables", bytes: s.sequences * blocks * 4 },
    { name: "token ids and positions", bytes: s.stepTokens * 2 * 4 },
    { name: "logits readback", bytes: s.logitRows * s.vocabSize * 4 },
    { name: "weight upload staging", bytes: staging },
  ];
  if (s.reserveBytes > 0) terms.push({ name: "reserve", bytes: s.reserveBytes });
  const bytes = terms.reduce((sum, term) => sum + term.bytes, 0);
  const formula =
    `overhead = block tables ${s.sequences} × ${formatCount(blocks)} × 4 B + token inputs ${formatCount(s.stepTokens)} × 8 B + ` +
    `logits readback ${s.logitRows} × ${formatCount(s.vocabSize)} × 4 B + staging min(${formatBytes(s.stagingBytes)}, largest tensor ` +
    `${formatBytes(s.largestTensorBytes)})` + (s.reserveBytes > 0 ? ` + reserve ${formatBytes(s.reserveBytes)}` : "") +
    ` = ${formatBytes(bytes)}`;
  return { bytes, terms, formula };
}
