// Cut user-defined tokens out of raw text before the model tokenizer sees it.
// Mirrors llama.cpp's tokenizer_st_partition (llama-vocab.cpp): every such token is searched for in
// turn, longest first, in all remaining pieces of text, and each occurrence becomes its own fragment.
// (Hugging Face's added-token splitter takes the leftmost longest match instead, which can differ
// when two tokens overlap, so we do this step ourselves and hand only plain text to the library.)

import { Attr } from "./special.js";

export type Fragment = { text: string; id?: undefined } | { id: number; text?: undefined };

// C isspace() in the "C" locale: what llama.cpp strips next to lstrip/rstrip tokens.
const LEADING_C_SPACE = /^[ \t\n\v\f\r]+/;
const TRAILING_C_SPACE = /[ \t\n\v\f\r]+$/;

/** A function splitting text into plain-text fragments and token fragments. */
export type Partitioner = (text: string) => Fragment[];

export function createPartitioner(tokens: string[], attrs: Uint16Array, ordered: number[]): Partitioner {
  if (ordered.length === 0) return (text) => (text === "" ? [] : [{ text }]);
  return (text) => {
    let fragments: Fragment[] = text === "" ? [] : [{ text }];
    for (const id of ordered) {
      const needle = tokens[id]!;
      const lstrip = (attrs[id]! & Attr.lstrip) !== 0;
      const rstrip = (attrs[id]! & Attr.rstrip) !== 0;
      const next: Fragment[] = [];
      for (const fragment of fragments) {
        if (fragment.text === undefined || !fragment.text.includes(needle)) {
          next.push(fragment);
          continue;
        }
        let rest = fragment.text;
        for (let at = rest.indexOf(needle); at >= 0; at = rest.indexOf(needle)) {
          let left = rest.slice(0, at);
          if (lstrip) left = left.replace(TRAILING_C_SPACE, "");
          if (left !== "") next.push({ text: left });
          next.push({ id });
          rest = rest.slice(at + needle.length);
          if (rstrip) rest = rest.replace(LEADING_C_SPACE, "");
        }
        if (rest !== "") next.push({ text: rest });
      }
      fragments = next;
    }
    return fragments;
  };
}
