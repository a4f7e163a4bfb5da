// The model catalog in models/: every manifest is well formed (the loader's schema: sha256 and bytes may be
// null, never invented), names are unique, the file is what the URL serves, and a manifest without a
// sha256 says so in its notes while one with a hash says where it came from.

import { describe, expect, it } from "vitest";
import { listManifests } from "../../src/cli/models.js";

const manifests = await listManifests();

/** The models a user would pick first, by manifest-name prefix. */
const FAMILIES = ["smollm2-135m-instruct", "smollm2-360m-instruct", "qwen2.5-0.5b-instruct", "qwen3-0.6b", "llama-3.2-1b-instruct", "gemma-3-1b-it", "phi-3.5-mini-instruct"];

describe("models/ catalog", () => {
  it("names are unique and every family is there", () => {
    const names = manifests.map((m) => m.name);
    expect(new Set(names).size).toBe(names.length);
    for (const family of FAMILIES) expect(names.filter((n) => n.startsWith(family + "-")).length, family).toBeGreaterThan(0);
  });

  for (const m of manifests) {
    it(`${m.name}: well formed`, () => {
      expect(Object.keys(m).sort()).toEqual(["bytes", "file", "license", "name", "notes", "sha256", "url"]);
      expect(m.file).toMatch(/^[\w.-]+\.gguf$/);
      if (m.url !== null) {
        expect(m.url).toMatch(/^https:\/\/huggingface\.co\/[\w.-]+\/[\w.-]+\/resolve\/main\//);
        expect(m.url.split("/").pop()).toBe(m.file);
      }
      if (m.sha256 === null) expect(m.notes).toMatch(/No published sha256 found/);
      else expect(m.sha256).toMatch(/^[0-9a-f]{64}$/);
      if (m.sha256 !== null && !m.name.startsWith("stories260K")) expect(m.notes).toMatch(/sha256 from /);
      if (m.bytes === null) expect(m.notes).toMatch(/Size not recorded/);
      else expect(Number.isInteger(m.bytes) && m.bytes > 0).toBe(true);
      expect(m.license.length).toBeGreaterThan(0);
    });
  }
});
