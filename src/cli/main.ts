// The webkv command line: run | chat | score | tokenize | quality | validate | estimate. Exit codes: 0 ok, 1 runtime error, 2 usage.

import { CHAT_USAGE, chatCommand } from "./chat.js";
import { estimateCommand } from "./estimate-command.js";
import { QUALITY_USAGE, qualityCommand } from "./quality.js";
import { VALIDATE_USAGE, validateCommand } from "./validate.js";
import { describeFailure } from "./errors.js";
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
        err(`webkv: unknown command "${command}" (commands: run, chat, score, tokenize, quality, validate, estimate; webkv --help)\n`);
        return 2;
    }
  } catch (error) {
    const failure = describeFailure(error);
    if (rest.includes("--json")) out(JSON.stringify({ error: { code: failure.code, message: failure.message } }) + "\n");
    err(`webkv ${command}: ${failure.message}\n`);
    if (rest.includes("--debug") && error instanceof Error && error.stack) err(`${error.stack}\n`);
    return failure.exitCode;
  }
}

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
