// Assembles a kernel's WGSL module: the wrapper's constants, the Step/TokenInfo/SeqInfo declarations
// every kernel shares (shaders/step.wgsl), then the kernel's libraries and its own file.

import stepWgsl from "../../shaders/step.wgsl?raw";
import { wgslWithConstants, type WgslConstant } from "../gpu/pipelines.js";

export function kernelSource(code: string, constants: Record<string, WgslConstant>): string {
  return wgslWithConstants(`${stepWgsl}\n${code}`, constants);
}
