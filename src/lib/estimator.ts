// The analytical estimator, as the library offers it (src/estimator is pure and browser-safe): bytes per
// category for any model × context × KV format × sequences, from a preset, a Hugging Face config.json, or a
// GGUF's header — read from a URL by Range requests (header only) or from a local File.

import { fromGgufMetadata, type ModelDescription } from "../estimator/index.js";
import { readGgufHeader } from "../gguf/reader.js";
import { blobSource, urlSource, type ByteSource } from "../gguf/source.js";
import { GgmlType } from "../gguf/types.js";
import { toWebkvError } from "./errors.js";

export {
  estimate, sweep, sweepSvg, fromHfConfig, PRESETS, preset, formatBytes, contextLabel,
  type Estimate, type EstimateSettings, type MemoryBytes, type ModelDescription, type SweepSeries,
} from "../estimator/index.js";

async function describe(source: ByteSource, name: string): Promise<ModelDescription> {
  try {
    const header = await readGgufHeader(source);
    const tensors = header.tensors.map((t) => ({ name: t.name, dims: t.dims, type: GgmlType[t.type] ?? t.type }));
    return fromGgufMetadata(header.metadata, tensors, name);
  } catch (error) {
    throw toWebkvError(error);
  }
}

/** A model description from a GGUF at a URL: only the header's bytes are fetched (Range requests). */
export async function describeGgufUrl(url: string): Promise<ModelDescription> {
  let source: ByteSource;
  try {
    source = await urlSource(url);
  } catch (error) {
    throw toWebkvError(error);
  }
  return describe(source, url.split("/").pop() ?? url);
}

/** A model description from a local GGUF File/Blob (only its header is read). */
export function describeGgufFile(file: Blob): Promise<ModelDescription> {
  return describe(blobSource(file), (file as File).name ?? "file");
}
