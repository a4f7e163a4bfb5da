// Four builds: the page (the runtime, served to Chromium by the harness), with --mode cli the Node CLI +
// harness, and with --mode lib the npm library (dist/lib: the public API and its worker, self-contained ES
// modules; types from tsconfig.lib.json), and with --mode app the Chrome app (src/ui → dist/app, static files
// any host serves; it imports "webkv", the library's public API, like any user's app). `vite --mode app`
// serves the app in development.
import { resolve } from "node:path";
import { defineConfig } from "vite";

export default defineConfig(({ mode }) => {
  if (mode === "lib") {
    return {
      base: "./",
      build: {
        lib: { entry: resolve(import.meta.dirname, "src/lib/index.ts"), formats: ["es"], fileName: "index" },
        outDir: resolve(import.meta.dirname, "dist/lib"),
        emptyOutDir: true,
        target: "es2022",
        sourcemap: true,
        copyPublicDir: false,
      },
      worker: { format: "es" },
    };
  }
  if (mode === "app") {
    return {
      root: resolve(import.meta.dirname, "src/ui"),
      base: "./",
      resolve: { alias: { webkv: resolve(import.meta.dirname, "src/lib/index.ts") } },
      worker: { format: "es" },
      server: { host: "127.0.0.1" },
      build: {
        outDir: resolve(import.meta.dirname, "dist/app"),
        emptyOutDir: true,
        target: "es2022",
        sourcemap: true,
      },
    };
  }
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
