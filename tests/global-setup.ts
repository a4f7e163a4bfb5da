// Builds the page, the CLI, the library and the app once before the tests, so GPU tests always run the current sources.

import { build } from "vite";

export default async function setup(): Promise<void> {
  await build({ configFile: "vite.config.ts", logLevel: "warn" });
  await build({ configFile: "vite.config.ts", mode: "cli", logLevel: "warn" });
  await build({ configFile: "vite.config.ts", mode: "lib", logLevel: "warn" });
  await build({ configFile: "vite.config.ts", mode: "app", logLevel: "warn" });
}
