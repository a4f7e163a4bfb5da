// The GGUF reader's promise: every malformed file ends in a GgufError whose code names the problem and whose
// message names the source and the field, key or tensor at fault, quickly and without allocating from an
// unchecked header field. The cases come from tests/helpers/malformed-cases.ts (shared with the page tests).

import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GgufError, bytesSource, readGgufHeader, readTensorBytes, type GgufHeader } from "../../src/gguf/index.js";
import { fileSource } from "../../src/gguf/node-source.js";
import { modelPath } from "../helpers/env.js";
import {
  ggufStringBytes,
  headerCorruptions,
  malformedCases,
  metadataEntryBytes,
  u32Bytes,
  walkGgufLayout,
  withExtraMetadataEntry,
  type MalformedCase,
} from "../helpers/malformed-cases.js";

const validBytes = new Uint8Array(await readFile(modelPath("stories260K.gguf")));
const cases = malformedCases(validBytes);
const MAX_CASE_MS = 1000;
const MAX_RSS_GROWTH_BYTES = 200 * 1024 * 1024;

/** The error a header read ends in, or a failure when it succeeds. */
async function headerError(read: Promise<GgufHeader>): Promise<unknown> {
  try {
    await read;
  } catch (error) {
    return error;
  }
  throw new Error("the header was accepted");
}

function expectCaseError(error: unknown, testCase: MalformedCase, sourceName: string): void {
  expect(error, `${testCase.name}: ${String(error)}`).toBeInstanceOf(GgufError);
  const { code, message } = error as GgufError;
  expect(code, `${testCase.name}: ${message}`).toBe(testCase.expectedCode);
  expect(message.startsWith(`${sourceName}: `), message).toBe(true);
  if (testCase.messageIncludes !== undefined) expect(message).toContain(testCase.messageIncludes);
}

describe("the valid fixture", () => {
  it("stories260K.gguf parses: v3, 48 tensors, 19 keys, alignment 32, every tensor inside the file", async () => {
    const header = await readGgufHeader(bytesSource(validBytes, "stories260K.gguf"));
    expect(header.version).toBe(3);
    expect(header.tensors).toHaveLength(48);
    expect(header.metadata.size).toBe(19);
    expect(header.alignment).toBe(32);
    expect(header.fileSize).toBe(validBytes.byteLength);
    expect(header.dataOffset % header.alignment).toBe(0);
    for (const tensor of header.tensors) {
      expect(tensor.offset).toBeGreaterThanOrEqual(header.dataOffset);
      expect(tensor.offset % header.alignment).toBe(0);
      expect(tensor.offset + tensor.byteLength).toBeLessThanOrEqual(header.fileSize);
    }
  });

  it("the case generator's walker agrees with the reader field for field", async () => {
    const header = await readGgufHeader(bytesSource(validBytes));
    const layout = walkGgufLayout(validBytes);
    expect(layout.dataStart).toBe(header.dataOffset);
    expect(layout.metadata.map((entry) => entry.key)).toEqual([...header.metadata.keys()]);
    expect(layout.tensors.map((t) => [t.name, t.dims, t.type, layout.dataStart + t.relativeOffset, t.byteLength])).toEqual(
      header.tensors.map((t) => [t.name, t.dims, t.type, t.offset, t.byteLength]),
    );
  });

  it("a metadata entry added by the generator's splicer keeps the file valid (general.alignment 64)", async () => {
    const layout = walkGgufLayout(validBytes);
    const entry = metadataEntryBytes("general.alignment", 4 /* u32 */, u32Bytes(64));
    const realigned = withExtraMetadataEntry(validBytes, layout, entry, 64);
    const header = await readGgufHeader(bytesSource(realigned));
    expect(header.alignment).toBe(64);
    expect(header.dataOffset % 64).toBe(0);
    const original = await readGgufHeader(bytesSource(validBytes));
    const last = header.tensors.at(-1)!;
    const originalLast = original.tensors.at(-1)!;
    expect(await readTensorBytes(bytesSource(realigned), last)).toEqual(await readTensorBytes(bytesSource(validBytes), originalLast));
    const withString = withExtraMetadataEntry(validBytes, layout, metadataEntryBytes("test.note", 8, ggufStringBytes("héllo")));
    expect((await readGgufHeader(bytesSource(withString))).metadata.get("test.note")).toBe("héllo");
  });
});

describe("malformed headers through bytesSource", () => {
  it(`has the promised coverage (${cases.length} cases, at least 20 truncations)`, () => {
    expect(cases.filter((c) => c.name.startsWith("truncated at")).length).toBeGreaterThanOrEqual(20);
    expect(new Set(cases.map((c) => c.name)).size).toBe(cases.length);
    const codes = new Set(cases.map((c) => c.expectedCode));
    for (const code of [
      "truncated", "bad_magic", "unsupported_version", "count_too_large", "string_too_long", "bad_utf8",
      "unknown_value_type", "duplicate_key", "bad_alignment", "bad_tensor_dims", "unknown_tensor_type",
      "duplicate_tensor", "tensor_misaligned", "tensor_out_of_bounds", "tensor_overlap", "bad_metadata",
    ] as const) {
      expect(codes, code).toContain(code);
    }
  });

  for (const testCase of cases) {
    it(`${testCase.name} → ${testCase.expectedCode}`, async () => {
      const started = performance.now();
      const error = await headerError(readGgufHeader(bytesSource(testCase.bytes, "case.gguf")));
      const elapsedMs = performance.now() - started;
      expectCaseError(error, testCase, "case.gguf");
      expect(elapsedMs, "took too long").toBeLessThan(MAX_CASE_MS);
    });
  }

  it("all cases together fail fast and allocate nothing sized by a corrupt field", async () => {
    const rssBefore = process.memoryUsage().rss;
    let peakRss = rssBefore;
    const started = performance.now();
    for (let round = 0; round < 3; round++) {
      for (const testCase of cases) {
        const error = await headerError(readGgufHeader(bytesSource(testCase.bytes, "case.gguf")));
        expect(error, testCase.name).toBeInstanceOf(GgufError);
        peakRss = Math.max(peakRss, process.memoryUsage().rss);
      }
    }
    expect(peakRss - rssBefore).toBeLessThan(MAX_RSS_GROWTH_BYTES);
    expect(performance.now() - started).toBeLessThan(10_000);
  });

  it("2000 random header corruptions each end in a header or a GgufError, never another error", async () => {
    const rssBefore = process.memoryUsage().rss;
    const outcomes = new Map<string, number>();
    for (const { name, bytes } of headerCorruptions(validBytes, 2000, 20240601)) {
      const started = performance.now();
      let outcome = "accepted";
      try {
        await readGgufHeader(bytesSource(bytes, "fuzz.gguf"));
      } catch (error) {
        if (!(error instanceof GgufError)) throw new Error(`${name}: ${String(error)}`, { cause: error });
        expect(error.message.startsWith("fuzz.gguf: "), `${name}: ${error.message}`).toBe(true);
        outcome = error.code;
      }
      expect(performance.now() - started, name).toBeLessThan(MAX_CASE_MS);
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    }
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(MAX_RSS_GROWTH_BYTES);
    expect(outcomes.size).toBeGreaterThan(5); // the corruptions reach many different checks
  });
});

describe("malformed files through fileSource", () => {
  let directory = "";
  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), "webkv-malformed-"));
  });
  afterAll(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  const picked = [
    "truncated at 0 (an empty file)",
    "truncated at 12 (inside the tensor count)",
    "bad magic GGML",
    "big-endian version 3",
    "tensor count 2^63",
    "key length larger than the file",
    "dimension 2^60",
    "alignment 48 (not a power of two)",
    "Q8_0 rows of 16",
  ];
  for (const name of picked) {
    it(`${name} (from a file)`, async () => {
      const testCase = cases.find((c) => c.name === name);
      if (!testCase) throw new Error(`no case named ${name}`);
      const path = join(directory, `${cases.indexOf(testCase)}.gguf`);
      await writeFile(path, testCase.bytes);
      const source = await fileSource(path);
      try {
        expectCaseError(await headerError(readGgufHeader(source)), testCase, path);
      } finally {
        await source.close?.();
      }
    });
  }

  it("every truncation and every placement case, from files", async () => {
    const fileCases = cases.filter((c) => c.name.startsWith("truncated at") || c.expectedCode.startsWith("tensor_"));
    for (const [index, testCase] of fileCases.entries()) {
      const path = join(directory, `placement-${index}.gguf`);
      await writeFile(path, testCase.bytes);
      const source = await fileSource(path);
      try {
        expectCaseError(await headerError(readGgufHeader(source)), testCase, path);
      } finally {
        await source.close?.();
      }
    }
  });

  it("a missing file is a source_error naming the path", async () => {
    const path = join(directory, "no-such-model.gguf");
    const error = await fileSource(path).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(GgufError);
    expect((error as GgufError).code).toBe("source_error");
    expect((error as GgufError).message).toContain(path);
  });
});

describe("readTensorBytes", () => {
  it("returns exactly the stored bytes of a tensor, from memory and from a file", async () => {
    const header = await readGgufHeader(bytesSource(validBytes));
    const source = await fileSource(modelPath("stories260K.gguf"));
    try {
      for (const tensor of [header.tensors[0]!, header.tensors[1]!, header.tensors.at(-1)!]) {
        const expected = validBytes.subarray(tensor.offset, tensor.offset + tensor.byteLength);
        expect(await readTensorBytes(bytesSource(validBytes), tensor)).toEqual(expected);
        expect(await readTensorBytes(source, tensor)).toEqual(expected);
      }
    } finally {
      await source.close?.();
    }
  });

  it("a tensor past the end of a shorter source is tensor_out_of_bounds naming the tensor", async () => {
    const header = await readGgufHeader(bytesSource(validBytes));
    const last = header.tensors.at(-1)!;
    const shorter = bytesSource(validBytes.subarray(0, validBytes.byteLength - 1), "short.gguf");
    const error = await readTensorBytes(shorter, last).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(GgufError);
    expect((error as GgufError).code).toBe("tensor_out_of_bounds");
    expect((error as GgufError).message).toContain(`"${last.name}"`);
  });

  it("a tensor info with an impossible offset or length is rejected before any read", async () => {
    const header = await readGgufHeader(bytesSource(validBytes));
    const tensor = header.tensors[0]!;
    for (const forged of [
      { ...tensor, offset: -32 },
      { ...tensor, byteLength: Number.NaN },
      { ...tensor, byteLength: 2 ** 60 },
      { ...tensor, offset: 2 ** 53 },
    ]) {
      for (const source of [bytesSource(validBytes, "memory.gguf"), await fileSource(modelPath("stories260K.gguf"))]) {
        const error = await readTensorBytes(source, forged).then(() => undefined, (e: unknown) => e);
        await source.close?.();
        expect(error, JSON.stringify(forged)).toBeInstanceOf(GgufError);
        expect((error as GgufError).code).toBe("tensor_out_of_bounds");
        expect((error as GgufError).message).toContain(`"${tensor.name}"`);
      }
    }
  });
});
