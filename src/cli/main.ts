// The webkv command line: run | chat | score | tokenize | quality | validate | estimate. Exit codes: 0 ok, 1 runtime error, 2 usage.

import { WebkvError } from "../app/wire.js";
import { GgufError } from "../gguf/errors.js";
import { CHAT_USAGE, chatCommand } from "./chat.js";
import { ChatTemplateError } from "../engine/chat-template.js";
import { estimateCommand } from "./estimate-command.js";
import { ModelResolutionError } from "./models.js";
import { DownloadVerificationError } from "./verified-download.js";
import { QUALITY_USAGE, qualityCommand } from "./quality.js";
import { VALIDATE_USAGE, validateCommand } from "./validate.js";
import { UsageError } from "./options.js";
import { RUN_USAGE, runCommand } from "./run.js";
import { SCORE_USAGE, scoreCommand } from "./score.js";
import { TOKENIZE_USAGE, tokenizeCommand } from "./tokenize.js";

const USAGE = `webkv — a KV-cache inference runtime for WebGPU

  ${RUN_USAGE}
  ${CHAT_USAGE}
  ${SCORE_USAGE}
  ${TOKENIZE_USAGE}
  ${QUALITY_USAGE}
  ${VALIDATE_USAGE}
  webkv estimate (--model <gguf|config.json> | --preset ID) --context N [...]   (webkv estimate --help)

Models: a .gguf path, an http(s) URL, or a name from models/ (e.g. stories260K), looked up in
$WEBKV_MODELS, then the cache (~/.cache/webkv), then downloaded with a sha256 check.
`;

const write = (stream: NodeJS.WriteStream) => (text: string) => void stream.write(text);

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const out = write(process.stdout);
  const err = write(process.stderr);
  try {
    switch (command) {
      case "run":
        return await runCommand(rest, out, err);
      case "chat":
        return await chatCommand(rest, out, err);
      case "score":
        return await scoreCommand(rest, out);
      case "tokenize":
        return await tokenizeCommand(rest, out);
      case "validate":
        return await validateCommand(rest, out, err);
      case "quality":
        return await qualityCommand(rest, out);
      case "estimate":
        return await estimateCommand(rest, (line) => out(line + "\n"));
      case undefined:
      case "help":
      case "--help":
      case "-h":
        out(USAGE);
        return command === undefined ? 2 : 0;
      default:
        err(`unknown command "${command}"\n\n${USAGE}`);
        return 2;
    }
  } catch (error) {
    if (error instanceof UsageError) {
      err(`webkv ${command}: ${error.message}\n`);
      return 2;
    }
    const known =
      error instanceof GgufError || error instanceof WebkvError || error instanceof ModelResolutionError || error instanceof DownloadVerificationError ||
      error instanceof ChatTemplateError;
    err(`webkv ${command}: ${known ? (error as Error).message : (error as Error).stack ?? String(error)}\n`);
    return 1;
  }
}

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
