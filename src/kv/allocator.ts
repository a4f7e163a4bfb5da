// The KV block allocator: a fixed set of block ids, a free list, and a reference count per block so that
// sequences can share blocks (forks, common prompt prefixes). Pure bookkeeping — no GPU calls — so it is
// property-tested against a simple model in tests/kv.

export class KvPoolExhaustedError extends Error {
  readonly code = "kv_pool_exhausted";
  constructor(
    readonly blocksNeeded: number,
    readonly blocksFree: number,
    readonly blocksTotal: number,
    /** What the user can do; the scheduler says whether preemption could help under its policy. */
    hint = "raise --kv-budget, lower --max-tokens or the number of sequences, or use --kv-policy preempt",
  ) {
    super(`KV cache exhausted: ${blocksNeeded} more block(s) needed, ${blocksFree} free of ${blocksTotal}; ${hint}`);
    this.name = "KvPoolExhaustedError";
  }
}

export class BlockAllocator {
  private readonly freeList: number[];
  private readonly refCounts: Uint32Array;

  constructor(readonly totalBlocks: number) {
    if (!Number.isInteger(totalBlocks) || totalBlocks < 1) throw new Error(`a KV pool needs at least one block, got ${totalBlocks}`);
    this.refCounts = new Uint32Array(totalBlocks);
    // Lowest ids first: pop() from the end hands out 0, 1, 2, … on a fresh pool.
    this.freeList = Array.from({ length: totalBlocks }, (_, i) => totalBlocks - 1 - i);
  }

  get freeBlocks(): number {
    return this.freeList.length;
  }

  get usedBlocks(): number {
    return this.totalBlocks - this.freeList.length;
  }

  /** `count` fresh blocks with reference count 1, or KvPoolExhaustedError (nothing allocated then). */
  allocate(count: number): number[] {
    if (count > this.freeList.length) throw new KvPoolExhaustedError(count, this.freeList.length, this.totalBlocks);
    const blocks: number[] = [];
    for (let i = 0; i < count; i++) {
      const block = this.freeList.pop()!;
      this.refCounts[block] = 1;
      blocks.push(block);
    }
    return blocks;
  }

  retain(block: number): void {
    this.check(block);
    this.refCounts[block]!++;
  }

  /** Drops one reference; the block returns to the free list when none remain. */
  release(block: number): void {
    this.check(block);
    if (--this.refCounts[block]! === 0) this.freeList.push(block);
  }

  refCount(block: number): number {
    return this.refCounts[block] ?? 0;
  }

  private check(block: number): void {
    if (!Number.isInteger(block) || block < 0 || block >= this.totalBlocks) throw new Error(`block id ${block} is outside the pool`);
    if (this.refCounts[block] === 0) throw new Error(`block ${block} is not allocated (double free or use after free)`);
  }
}
