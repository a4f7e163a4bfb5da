// Assembles a kernel's WGSL module: the wrapper's constants, the Step/TokenInfo/SeqInfo declarations
// every kernel shares (shaders/step.wgsl), then the kernel's libraries and its own file.

import stepWgsl from "../../shaders/step.wgsl?raw";
import { wgslWithConstants, type WgslConstant } from "../gpu/pipelines.js";

/** `directives` (e.g. "enable subgroups;") go first, where WGSL wants them. */
export function kernelSource(code: string, constants: Record<string, WgslConstant>, directives: string[] = []): string {
  const body = wgslWithConstants(`${stepWgsl}\n${code}`, constants);
  return directives.length ? `${directives.join("\n")}\n${body}` : body;
}

/**
 * Writes out, for each name in `counts` (in order), every line holding `{name}` once per value 0 … count − 1
 * with the value in its place; comment lines stay as they are. For kernels that keep a row in struct fields
 * rather than an indexed array (see shaders/attention_flash_grouped.wgsl).
 */
export function unrollLines(source: string, counts: Record<string, number>): string {
  let lines = source.split("\n");
  for (const [name, count] of Object.entries(counts)) {
    const mark = `{${name}}`;
    lines = lines.flatMap((line) =>
      line.includes(mark) && !line.trimStart().startsWith("//")
        ? Array.from({ length: count }, (_, value) => line.split(mark).join(String(value)))
        : [line],
    );
  }
  return lines.join("\n");
}
