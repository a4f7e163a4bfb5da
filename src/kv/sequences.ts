// Sequences over the block pool: each sequence is a block table (logical block i → physical block) and a
// length. Appending reserves slots, allocating blocks as needed; a fork shares every block (refcount +1),
// adopting a prefix shares a donor's first full blocks; the first append into a shared last block copies it
// first (copy-on-write). With quantized KV formats each live sequence also holds a tail slot (its newest
// partial block in full precision); a fork copies its parent's tail. GPU copies are returned to the caller,
// so this file stays pure bookkeeping.

import { BlockAllocator } from "./allocator.js";

export interface KvSequence {
  readonly id: number;
  /** Physical block ids, in logical order. */
  blocks: number[];
  /** Tokens stored. */
  length: number;
  /** Tail slot (quantized formats), else 0. */
  tail: number;
}

export class TooManySequencesError extends Error {
  readonly code = "too_many_sequences";
}

export interface SlotReservation {
  /** Physical slot (block · blockSize + offset) for each new position, in order. */
  slots: number[];
  /** Copies the caller must perform on the GPU before writing: whole blocks, src → dst. */
  copies: { src: number; dst: number }[];
}

export class SequenceTable {
  private readonly sequences = new Map<number, KvSequence>();
  private nextId = 0;
  private readonly freeTails: number[];
  private pendingTailCopies: { src: number; dst: number }[] = [];

  constructor(
    readonly allocator: BlockAllocator,
    readonly blockSize: number,
    /** Tail slots (quantized KV formats): at most this many sequences alive at once. 0 = no tails. */
    readonly tails = 0,
  ) {
    this.freeTails = Array.from({ length: tails }, (_, i) => tails - 1 - i);
  }

  private takeTail(): number {
    if (this.tails === 0) return 0;
    const tail = this.freeTails.pop();
    if (tail === undefined) {
      throw new TooManySequencesError(`all ${this.tails} KV tail slots are in use: at most ${this.tails} sequences can be alive at once (raise the sequence capacity)`);
    }
    return tail;
  }

  create(): KvSequence {
    const sequence: KvSequence = { id: this.nextId++, blocks: [], length: 0, tail: this.takeTail() };
    this.sequences.set(sequence.id, sequence);
    return sequence;
  }

  /** Tail copies forks have asked for since the last call (to perform before the next step). */
  takeTailCopies(): { src: number; dst: number }[] {
    const copies = this.pendingTailCopies;
    this.pendingTailCopies = [];
    return copies;
  }

  has(id: number): boolean {
    return this.sequences.has(id);
  }

  get(id: number): KvSequence {
    const sequence = this.sequences.get(id);
    if (!sequence) throw new Error(`no KV sequence ${id}`);
    return sequence;
  }

  all(): KvSequence[] {
    return [...this.sequences.values()];
  }

  /** A new sequence sharing all of `parent`'s blocks and tokens. */
  fork(parentId: number): KvSequence {
    const parent = this.get(parentId);
    const tail = this.takeTail();
    for (const block of parent.blocks) this.allocator.retain(block);
    const child: KvSequence = { id: this.nextId++, blocks: [...parent.blocks], length: parent.length, tail };
    if (this.tails > 0) this.pendingTailCopies.push({ src: parent.tail, dst: tail });
    this.sequences.set(child.id, child);
    return child;
  }

  /**
   * Gives the empty sequence `childId` the first `blockCount` blocks of `donorId` (refcount +1 each): a
   * common prompt prefix is stored once. Only full blocks are shared, so the child's next append starts a
   * block of its own and neither sequence ever writes into a shared block.
   */
  adoptPrefix(childId: number, donorId: number, blockCount: number): void {
    const child = this.get(childId);
    const donor = this.get(donorId);
    if (child.length !== 0) throw new Error(`KV sequence ${childId} already holds ${child.length} tokens: only an empty sequence can adopt a prefix`);
    if (!Number.isInteger(blockCount) || blockCount < 1 || blockCount * this.blockSize > donor.length) {
      throw new Error(`KV sequence ${donorId} has ${Math.floor(donor.length / this.blockSize)} full block(s); cannot share ${blockCount}`);
    }
    const shared = donor.blocks.slice(0, blockCount);
    for (const block of shared) this.allocator.retain(block);
    child.blocks = shared;
    child.length = blockCount * this.blockSize;
  }

  /** Blocks that appending `count` tokens would take from the pool (new blocks + a copy-on-write). */
  blocksNeeded(id: number, count: number): number {
    const sequence = this.get(id);
    const newBlocks = Math.ceil((sequence.length + count) / this.blockSize) - sequence.blocks.length;
    const lastShared =
      count > 0 && sequence.length % this.blockSize !== 0 && this.allocator.refCount(sequence.blocks.at(-1)!) > 1;
    return newBlocks + (lastShared ? 1 : 0);
  }

  /**
   * Reserves slots for `count` new tokens at the end of the sequence. All-or-nothing: on
   * KvPoolExhaustedError nothing has changed.
   */
  append(id: number, count: number): SlotReservation {
    const sequence = this.get(id);
    const copies: { src: number; dst: number }[] = [];
    const needed = this.blocksNeeded(id, count);
    const fresh = this.allocator.allocate(needed); // throws before any change
    if (count > 0 && sequence.length % this.blockSize !== 0) {
      const last = sequence.blocks.length - 1;
      const shared = sequence.blocks[last]!;
      if (this.allocator.refCount(shared) > 1) {
        const copy = fresh.pop()!;
        copies.push({ src: shared, dst: copy });
        this.allocator.release(shared);
        sequence.blocks[last] = copy;
      }
    }
    sequence.blocks.push(...fresh);
    const slots: number[] = [];
    for (let i = 0; i < count; i++) {
      const position = sequence.length + i;
      slots.push(sequence.blocks[Math.floor(position / this.blockSize)]! * this.blockSize + (position % this.blockSize));
    }
    sequence.length += count;
    return { slots, copies };
  }

  /** Drops the last `count` tokens (e.g. rejected reservations); frees blocks no longer needed. */
  truncate(id: number, length: number): void {
    const sequence = this.get(id);
    if (length > sequence.length) throw new Error(`cannot truncate sequence ${id} of ${sequence.length} tokens to ${length}`);
    const keepBlocks = Math.ceil(length / this.blockSize);
    for (const block of sequence.blocks.splice(keepBlocks)) this.allocator.release(block);
    sequence.length = length;
  }

  free(id: number): void {
    const sequence = this.get(id);
    for (const block of sequence.blocks) this.allocator.release(block);
    if (this.tails > 0) {
      this.freeTails.push(sequence.tail);
      this.pendingTailCopies = this.pendingTailCopies.filter((c) => c.dst !== sequence.tail);
    }
    this.sequences.delete(id);
  }

  /** Token slots in use and slots allocated (blocks × block size, shared blocks counted once). */
  utilization(): { usedSlots: number; allocatedSlots: number } {
    const counted = new Set<number>();
    let usedSlots = 0;
    for (const sequence of this.sequences.values()) {
      sequence.blocks.forEach((block, i) => {
        if (counted.has(block)) return;
        counted.add(block);
        usedSlots += Math.min(this.blockSize, sequence.length - i * this.blockSize);
      });
    }
    return { usedSlots, allocatedSlots: this.allocator.usedBlocks * this.blockSize };
  }
}
