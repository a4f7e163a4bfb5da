// Property tests of the paged-KV bookkeeping (src/kv/allocator.ts, src/kv/sequences.ts) against a simple
// model: thousands of random forks, appends, truncations (preemption) and frees. A simulated block store
// stands in for the GPU: appends write token values into their slots, copy-on-write copies are executed as
// the GPU would execute them. After every operation: no block leaked or freed twice, refcounts equal the
// number of tables holding each block, and every sequence reads back exactly its own tokens.

import { describe, expect, it } from "vitest";
import { Random } from "../../src/gguf/random.js";
import { BlockAllocator, KvPoolExhaustedError } from "../../src/kv/allocator.js";
import { SequenceTable } from "../../src/kv/sequences.js";

class SimulatedPool {
  readonly slots: Int32Array;
  constructor(blocks: number, readonly blockSize: number) {
    this.slots = new Int32Array(blocks * blockSize).fill(-1);
  }
  copyBlock(src: number, dst: number): void {
    this.slots.copyWithin(dst * this.blockSize, src * this.blockSize, (src + 1) * this.blockSize);
  }
}

/** Throws on the first broken invariant (plain checks: this runs after each of thousands of operations). */
function checkInvariants(table: SequenceTable, allocator: BlockAllocator, pool: SimulatedPool, model: Map<number, number[]>): void {
  const fail = (message: string) => {
    throw new Error(message);
  };
  const holders = new Map<number, number>();
  for (const sequence of table.all()) {
    if (sequence.blocks.length !== Math.ceil(sequence.length / table.blockSize)) fail(`sequence ${sequence.id}: ${sequence.blocks.length} blocks for ${sequence.length} tokens`);
    for (const block of sequence.blocks) holders.set(block, (holders.get(block) ?? 0) + 1);
    const expected = model.get(sequence.id)!;
    if (sequence.length !== expected.length) fail(`sequence ${sequence.id}: length ${sequence.length} ≠ ${expected.length}`);
    for (let p = 0; p < sequence.length; p++) {
      const slot = sequence.blocks[Math.floor(p / table.blockSize)]! * table.blockSize + (p % table.blockSize);
      if (pool.slots[slot] !== expected[p]) fail(`sequence ${sequence.id} position ${p}: ${pool.slots[slot]} ≠ ${expected[p]}`);
    }
  }
  for (let block = 0; block < allocator.totalBlocks; block++) {
    const held = holders.get(block) ?? 0;
    if (allocator.refCount(block) !== held) fail(`block ${block}: refcount ${allocator.refCount(block)}, held by ${held} tables`);
  }
  if (allocator.usedBlocks !== holders.size) fail(`${allocator.usedBlocks} blocks in use, ${holders.size} held (leak)`);
  if (allocator.freeBlocks + allocator.usedBlocks !== allocator.totalBlocks) fail("free + used ≠ total");
}

describe("block allocator and sequences: random operations against a model", () => {
  for (const [seed, blockSize, blocks] of [[1, 16, 64], [2, 8, 40], [3, 1, 50], [4, 32, 24], [5, 64, 12]] as const) {
    it(`seed ${seed}: block size ${blockSize}, ${blocks} blocks, 3000 operations`, () => {
      const random = new Random(seed);
      const allocator = new BlockAllocator(blocks);
      const table = new SequenceTable(allocator, blockSize);
      const pool = new SimulatedPool(blocks, blockSize);
      const model = new Map<number, number[]>();
      let nextToken = 0;
      const counts = { append: 0, fork: 0, adopt: 0, free: 0, truncate: 0, exhausted: 0, copies: 0 };
      for (let op = 0; op < 3000; op++) {
        const live = table.all();
        const pick = () => live[random.nextInt(live.length)]!;
        const roll = random.nextFloat();
        if (live.length === 0 || roll < 0.08) {
          model.set(table.create().id, []);
        } else if (roll < 0.6) {
          const sequence = pick();
          const count = 1 + random.nextInt(random.nextFloat() < 0.2 ? 3 * blockSize : 3);
          const before = { length: sequence.length, blocks: [...sequence.blocks], free: allocator.freeBlocks };
          try {
            const { slots, copies } = table.append(sequence.id, count);
            for (const copy of copies) pool.copyBlock(copy.src, copy.dst);
            counts.copies += copies.length;
            const tokens = Array.from({ length: count }, () => nextToken++);
            slots.forEach((slot, i) => (pool.slots[slot] = tokens[i]!));
            model.get(sequence.id)!.push(...tokens);
            counts.append++;
          } catch (error) {
            expect(error).toBeInstanceOf(KvPoolExhaustedError);
            expect((error as KvPoolExhaustedError).code).toBe("kv_pool_exhausted");
            // All-or-nothing: nothing changed.
            expect({ length: sequence.length, blocks: sequence.blocks, free: allocator.freeBlocks }).toEqual(before);
            counts.exhausted++;
          }
        } else if (roll < 0.72) {
          const parent = pick();
          const child = table.fork(parent.id);
          model.set(child.id, [...model.get(parent.id)!]);
          counts.fork++;
        } else if (roll < 0.78) {
          // A new sequence adopting a donor's common prefix (whole blocks), then appending its own tokens.
          const donor = pick();
          const fullBlocks = Math.floor(donor.length / blockSize);
          if (fullBlocks === 0) continue;
          const blockCount = 1 + random.nextInt(fullBlocks);
          const child = table.create();
          table.adoptPrefix(child.id, donor.id, blockCount);
          model.set(child.id, model.get(donor.id)!.slice(0, blockCount * blockSize));
          expect(table.blocksNeeded(child.id, 1)).toBe(1); // never a copy: the child's next token starts a block
          counts.adopt++;
        } else if (roll < 0.85) {
          const sequence = pick();
          const keep = random.nextInt(sequence.length + 1);
          table.truncate(sequence.id, keep);
          model.get(sequence.id)!.length = keep;
          counts.truncate++;
        } else {
          const sequence = pick();
          table.free(sequence.id);
          model.delete(sequence.id);
          counts.free++;
        }
        checkInvariants(table, allocator, pool, model);
      }
      for (const sequence of table.all()) table.free(sequence.id);
      expect(allocator.freeBlocks).toBe(blocks);
      expect(counts.exhausted).toBeGreaterThan(0);
      if (blockSize > 1) expect(counts.copies).toBeGreaterThan(0); // block size 1 has no partial blocks to copy
      expect(counts.fork).toBeGreaterThan(50);
      expect(counts.adopt).toBeGreaterThan(20);
    });
  }
});

describe("exhaustion and misuse are named errors", () => {
  it("allocating past the pool reports blocks needed, free and total", () => {
    const allocator = new BlockAllocator(4);
    allocator.allocate(3);
    expect(() => allocator.allocate(2)).toThrow(/KV cache exhausted: 2 more block\(s\) needed, 1 free of 4/);
  });

  it("double free and use after free are caught", () => {
    const allocator = new BlockAllocator(2);
    const [block] = allocator.allocate(1);
    allocator.release(block!);
    expect(() => allocator.release(block!)).toThrow(/not allocated/);
    expect(() => allocator.retain(block!)).toThrow(/not allocated/);
    expect(() => allocator.release(7)).toThrow(/outside the pool/);
  });

  it("adopting a prefix shares only full blocks of the donor, and only into an empty sequence", () => {
    const table = new SequenceTable(new BlockAllocator(8), 4);
    const donor = table.create();
    table.append(donor.id, 10); // blocks [0, 1, 2], the last half full
    const child = table.create();
    expect(() => table.adoptPrefix(child.id, donor.id, 3)).toThrow(/has 2 full block\(s\); cannot share 3/);
    table.adoptPrefix(child.id, donor.id, 2);
    expect(child.blocks).toEqual(donor.blocks.slice(0, 2));
    expect(child.length).toBe(8);
    expect(() => table.adoptPrefix(child.id, donor.id, 1)).toThrow(/already holds 8 tokens/);
    table.free(donor.id);
    expect(table.allocator.usedBlocks).toBe(2); // the child still holds the shared blocks
  });

  it("copy-on-write happens at the first divergent append into a shared partial block", () => {
    const table = new SequenceTable(new BlockAllocator(8), 4);
    const a = table.create();
    table.append(a.id, 6); // blocks [0, 1], second block half full
    const b = table.fork(a.id);
    expect(table.blocksNeeded(b.id, 1)).toBe(1);
    const { copies } = table.append(b.id, 1);
    expect(copies).toEqual([{ src: a.blocks[1], dst: b.blocks[1] }]);
    expect(b.blocks[0]).toBe(a.blocks[0]); // the full block stays shared
    expect(table.append(a.id, 1).copies).toEqual([]); // a is the only holder of its block now
  });
});
