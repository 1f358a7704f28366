import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // tfjs keeps global engine state and the wasm backend its own memory: one process per file.
    pool: "forks",
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
