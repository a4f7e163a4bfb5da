import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["tests/**/*.test.ts"],
    globalSetup: ["tests/global-setup.ts"],
    testTimeout: 120_000,
    hookTimeout: 180_000,
    // GPU tests share one Chromium per file; files run one at a time on this 2-core machine.
    fileParallelism: false,
  },
});
