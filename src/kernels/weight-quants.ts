// How the kernels that read weights (the matmul family, the embedding) reach a matrix's split-layout quants:
// storage words of w_data (shaders/weight_quants_storage.wgsl) or, for a matrix uploaded as texels
// (GpuMatrix.texels, tuning.weightTexels), an rgba32uint texture bound beside the kernel's buffers
// (shaders/weight_quants_texels.wgsl). One WGSL library either way, and what the wrapper adds to its layout,
// its bind groups and its chunks' uniforms.

import storageWgsl from "../../shaders/weight_quants_storage.wgsl?raw";
import texelsWgsl from "../../shaders/weight_quants_texels.wgsl?raw";
import type { TextureBinding } from "../gpu/pipelines.js";
import type { GpuMatrix, GpuMatrixChunk } from "../model/weights.js";

/** The library defining quant_texel for this matrix, and its constants (the texture's binding: after the kernel's own). */
export function weightQuantsLibrary(matrix: Pick<GpuMatrix, "texels">, texelsBinding: number): { wgsl: string; constants: Record<string, number> } {
  return matrix.texels ? { wgsl: texelsWgsl, constants: { WEIGHT_TEXELS_BINDING: texelsBinding } } : { wgsl: storageWgsl, constants: {} };
}

/** The texture binding a chunk adds after the kernel's buffers (none for quants in w_data). */
export function weightTexelsBinding(matrix: Pick<GpuMatrix, "name" | "texels">, chunk: GpuMatrixChunk): TextureBinding[] {
  if (!matrix.texels) return [];
  if (!chunk.texels) throw new Error(`${matrix.name}: a chunk of a matrix read as texels has no texture`);
  return [{ textureView: chunk.texels.view }];
}

/** log2 of the chunk's texture width, for its uniform (weight_texel_width_log2 in the kernel; 0 without texels). */
export function texelWidthLog2(chunk: GpuMatrixChunk): number {
  return chunk.texels?.widthLog2 ?? 0;
}
