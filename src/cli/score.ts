// webkv score: one teacher-forced pass over ids: the top-1 prediction at every position, the
// log-probability of each next id, and the perplexity.

import { withModelInBrowser } from "./browser-model.js";
import { BROWSER_OPTIONS, MODEL_OPTIONS, idListOption, parse, UsageError } from "./options.js";

export const SCORE_USAGE = `webkv score --model <path|url|name> --ids 1,2,3,... [--json]`;

interface ScoreReply {
  top1: number[];
  logprob: number[];
  perplexity: number;
  timings: { prefill_ms: number; prefill_tok_s: number };
}

export async function scoreCommand(argv: string[], out: (text: string) => void): Promise<number> {
  const { values } = parse(argv, { ...BROWSER_OPTIONS, ...MODEL_OPTIONS, ids: { type: "string" } });
  const ids = idListOption(values, "ids");
  if (!ids) throw new UsageError("--ids is required: comma-separated token ids (include BOS yourself)");
  if (ids.length < 2) throw new UsageError("--ids needs at least two ids");
  return withModelInBrowser(values, async ({ session, loaded }) => {
    const vocab = loaded.config.vocabSize;
    const bad = ids.find((id) => id >= vocab);
    if (bad !== undefined) throw new UsageError(`token id ${bad} is outside the vocabulary of ${vocab}`);
    const reply = await session.call<ScoreReply>("score", { modelId: loaded.modelId, ids });
    if (values.json) {
      out(JSON.stringify({ ids, top1: reply.top1, logprob: reply.logprob, perplexity: reply.perplexity, timings: reply.timings }) + "\n");
    } else {
      const correct = reply.top1.slice(0, -1).filter((id, i) => id === ids[i + 1]).length;
      out(
        `${ids.length} ids · perplexity ${reply.perplexity.toFixed(4)} · top-1 predicted the next id ${correct}/${ids.length - 1} times · ` +
          `${reply.timings.prefill_tok_s.toFixed(1)} tok/s\n`,
      );
    }
    return 0;
  });
}
