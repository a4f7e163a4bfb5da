// Where tests find the shared fixtures: WEBKV_MODELS (models) and WEBKV_VOCAB (vocab-only files),
// defaulting to ../shared beside the repository as .ci/run sets them.

import { existsSync } from "node:fs";
import { join, resolve } from "node:path";

const repoRoot = resolve(import.meta.dirname, "..", "..");

export const modelsDir = process.env.WEBKV_MODELS ?? resolve(repoRoot, "..", "shared", "models");
export const vocabDir = process.env.WEBKV_VOCAB ?? resolve(modelsDir, "..", "vocab");

export function modelPath(file: string): string {
  const path = join(modelsDir, file);
  if (!existsSync(path)) {
    throw new Error(`test fixture ${path} is missing: set WEBKV_MODELS to the folder holding ${file}`);
  }
  return path;
}

export function vocabPath(file: string): string {
  const path = join(vocabDir, file);
  if (!existsSync(path)) throw new Error(`test fixture ${path} is missing: set WEBKV_VOCAB to the folder holding ${file}`);
  return path;
}
