// The bytes each token stands for when turned back into text: llama.cpp's token_to_piece
// (llama-vocab.cpp) with special=false. Bytes rather than strings, because an SPM byte-fallback token
// or a byte-level BPE token can hold part of a UTF-8 character; text is decoded only once the bytes
// of whole characters are together (see decode and the stream decoder in index.ts).

import { Attr } from "./special.js";

const EMPTY = new Uint8Array(0);

/**
 * id → bytes, computed on first use (a vocabulary can hold 250k tokens; a text uses few).
 * `spaceMarks`: normal tokens are text with "▁" for spaces (SPM, gemma4); otherwise GPT-2 byte symbols.
 */
export function createPieceTable(spaceMarks: boolean, tokens: string[], attrs: Uint16Array): (id: number) => Uint8Array {
  const utf8 = new TextEncoder();
  const byteOfSymbol = spaceMarks ? undefined : gpt2SymbolBytes();
  const cache: (Uint8Array | undefined)[] = new Array(tokens.length);

  const render = (id: number): Uint8Array => {
    const text = tokens[id]!;
    const attr = attrs[id]!;
    if (attr & (Attr.control | Attr.unknown)) return EMPTY; // not rendered without special=true
    if (attr & Attr.userDefined) return utf8.encode(text); // stored as plain text in both families
    if (attr & Attr.normal) {
      // SPM and gemma4: "▁" is a space. Byte-level BPE: every character is one byte's symbol.
      return byteOfSymbol ? symbolsToBytes(text, byteOfSymbol, utf8) : utf8.encode(text.replaceAll("▁", " "));
    }
    if (attr & Attr.byte) return Uint8Array.of(parseInt(text.slice(3, 5), 16)); // "<0xXX>"
    return EMPTY; // unused and undefined tokens render as nothing
  };
  return (id) => (cache[id] ??= render(id));
}

/**
 * GPT-2's table from bytes to printable characters, inverted: bytes that print as themselves
 * (! to ~, ¡ to ¬, ® to ÿ) keep their code point; the other 68 take U+0100 onwards, in byte order.
 */
function gpt2SymbolBytes(): Map<number, number> {
  const printable = (b: number) => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  const byteOfSymbol = new Map<number, number>();
  let shifted = 0;
  for (let b = 0; b < 256; b++) byteOfSymbol.set(printable(b) ? b : 0x100 + shifted++, b);
  return byteOfSymbol;
}

function symbolsToBytes(text: string, byteOfSymbol: Map<number, number>, utf8: TextEncoder): Uint8Array {
  const bytes: number[] = [];
  for (const char of text) {
    const byte = byteOfSymbol.get(char.codePointAt(0)!);
    // A character outside the table cannot come from byte-level encoding; keep it as text.
    if (byte === undefined) bytes.push(...utf8.encode(char));
    else bytes.push(byte);
  }
  return Uint8Array.from(bytes);
}
