// `webkv run` talks to nobody but itself: Chromium's own network log, recorded during a real run
// ($WEBKV_NET_LOG), shows no DNS query, no connection and no byte sent to any host but 127.0.0.1. Chromium
// still composes its sign-in and component-update requests (no flag stops them); they fail inside Chromium
// on the host rule before any packet leaves, and are counted here.

import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { modelsDir } from "../helpers/env.js";

const exec = promisify(execFile);
const bin = resolve(import.meta.dirname, "../../bin/webkv.js");
const tempDir = await mkdtemp(join(tmpdir(), "webkv-netlog-"));
afterAll(() => rm(tempDir, { recursive: true, force: true }));

interface NetLog {
  constants: { logEventTypes: Record<string, number> };
  events: { type: number; params?: Record<string, unknown> }[];
}

describe("network isolation", () => {
  it("during webkv run, nothing but 127.0.0.1 is resolved, connected to or sent to", async () => {
    const logPath = join(tempDir, "netlog.json");
    await exec("node", [bin, "run", "--model", "stories260K", "--prompt-ids", "1", "--max-tokens", "8", "--json"], {
      env: { ...process.env, WEBKV_MODELS: modelsDir, WEBKV_NET_LOG: logPath },
      timeout: 120_000,
    });
    const text = await readFile(logPath, "utf8");
    // Chromium may leave the closing "]}" off when it is shut down: parse the complete prefix.
    const log = JSON.parse(text.trimEnd().replace(/,\s*$/, "").replace(/(\])?\s*(\})?\s*$/, (_m, a, b) => `${a ?? "]"}${b ?? "}"}`)) as NetLog;
    const named = Object.fromEntries(Object.entries(log.constants.logEventTypes).map(([name, id]) => [id, name]));
    const events = log.events.map((e) => ({ name: named[e.type]!, params: e.params ?? {} }));

    // Name resolution: no DNS or system (getaddrinfo) lookup ever starts; resolver jobs only for 127.0.0.1.
    expect(events.filter((e) => /^HOST_RESOLVER_(DNS|SYSTEM)_TASK|^DNS_TRANSACTION/.test(e.name))).toEqual([]);
    const resolved = events.filter((e) => e.name === "HOST_RESOLVER_MANAGER_JOB" && e.params.host !== undefined).map((e) => String(e.params.host));
    expect(resolved.filter((host) => !host.includes("127.0.0.1"))).toEqual([]);
    const connects = events.filter((e) => e.name === "TCP_CONNECT_ATTEMPT" && e.params.address !== undefined).map((e) => String(e.params.address));
    expect(connects.length).toBeGreaterThan(0);
    expect(connects.filter((address) => !address.startsWith("127.0.0.1:"))).toEqual([]);
    expect(events.filter((e) => e.name === "UDP_BYTES_SENT")).toEqual([]);

    const requested = events.filter((e) => e.name === "URL_REQUEST_START_JOB" && e.params.url !== undefined).map((e) => new URL(String(e.params.url)).host);
    expect(requested.filter((host) => host.startsWith("127.0.0.1:")).length).toBeGreaterThan(0);
    console.log(`requests composed by Chromium for other hosts, stopped before leaving it: ${JSON.stringify(requested.filter((h) => !h.startsWith("127.0.0.1:")))}`);
  });
});
