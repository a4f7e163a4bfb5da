// Two builds: the page (the runtime, served to Chromium) and, with --mode cli, the Node CLI + harness.
import { resolve } from "node:path";
import { defineConfig } from "vite";

export default defineConfig(({ mode }) => {
  if (mode === "cli") {
    return {
      build: {
        ssr: resolve(import.meta.dirname, "src/cli/main.ts"),
        outDir: resolve(import.meta.dirname, "dist/cli"),
        emptyOutDir: true,
        target: "node20",
        rollupOptions: { output: { entryFileNames: "webkv.js" } },
      },
    };
  }
  return {
    root: resolve(import.meta.dirname, "src/app"),
    base: "./",
    build: {
      outDir: resolve(import.meta.dirname, "dist/page"),
      emptyOutDir: true,
      target: "es2022",
      sourcemap: true,
    },
  };
});
