// The npm registry this project is built against lacks some platform builds of node-llama-cpp
// (@node-llama-cpp/win-*, mac-*, linux-riscv64 for the pinned version), so `npm install` leaves them out of
// package-lock.json and `npm ci` then refuses the lock. This adds them back as os/cpu-restricted optional
// entries: npm skips them on other platforms and never fetches them on Linux x64. Run after `npm install`.
import { readFileSync, writeFileSync } from "node:fs";

const lockPath = new URL("../package-lock.json", import.meta.url);
const lock = JSON.parse(readFileSync(lockPath, "utf8"));
const platforms = {
  "linux-riscv64": [["linux"], ["riscv64"]],
  "mac-arm64-metal": [["darwin"], ["arm64"]],
  "mac-x64": [["darwin"], ["x64"]],
  "win-arm64": [["win32"], ["arm64"]],
  "win-x64": [["win32"], ["x64"]],
  "win-x64-cuda": [["win32"], ["x64"]],
  "win-x64-cuda-ext": [["win32"], ["x64"]],
  "win-x64-vulkan": [["win32"], ["x64"]],
};
const optional = lock.packages["node_modules/node-llama-cpp"]?.optionalDependencies ?? {};
let added = 0;
for (const [name, version] of Object.entries(optional)) {
  const key = `node_modules/${name}`;
  const short = name.split("/")[1];
  if (lock.packages[key] || !platforms[short]) continue;
  const [os, cpu] = platforms[short];
  lock.packages[key] = { version, resolved: `https://registry.npmjs.org/${name}/-/${short}-${version}.tgz`, cpu, dev: true, license: "MIT", optional: true, os };
  added++;
}
const sorted = Object.fromEntries(Object.entries(lock.packages).sort(([a], [b]) => (a === "" ? -1 : b === "" ? 1 : a < b ? -1 : a > b ? 1 : 0)));
writeFileSync(lockPath, JSON.stringify({ ...lock, packages: sorted }, null, 2) + "\n");
console.log(`package-lock.json: ${added} platform entries added`);
