// Random token ids for load tests (benches, `webkv validate`, the fragmentation bench): uniform over the
// vocabulary past ids 0…2, the unknown / BOS / EOS ids of llama-style vocabularies, so a random prompt never
// contains a control token. Seeded: the same Random gives the same ids.

import type { Random } from "../gguf/random.js";

/** `count` ids drawn uniformly from [3, vocabSize). */
export function randomTokenIds(random: Random, count: number, vocabSize: number): number[] {
  return Array.from({ length: count }, () => 3 + random.nextInt(vocabSize - 3));
}
