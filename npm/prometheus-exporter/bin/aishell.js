#!/usr/bin/env node
// Launcher: finds the native `aishell` binary shipped in the platform package
// (@aishell/prometheus-exporter-<os>-<arch>, installed as an optional dependency, the way esbuild
// ships its binaries; nothing is downloaded at install time) and runs it with the same arguments,
// standard streams, signals and exit code.
"use strict";
const { spawn } = require("child_process");
const path = require("path");

const platformPackage = `@aishell/prometheus-exporter-${process.platform}-${process.arch}`;
let binary;
try {
  binary = path.join(path.dirname(require.resolve(`${platformPackage}/package.json`)), "bin", "aishell");
} catch {
  console.error(`aishell: no native binary for ${process.platform}-${process.arch}: ${platformPackage} is not installed.`);
  console.error("aishell: prebuilt binaries exist for linux-x64 and linux-arm64; elsewhere build from source with ./build.sh.");
  process.exit(1);
}

const child = spawn(binary, process.argv.slice(2), { stdio: "inherit" });
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  process.on(signal, () => child.kill(signal));
}
child.on("error", (error) => {
  console.error(`aishell: cannot run ${binary}: ${error.message}`);
  process.exit(1);
});
child.on("exit", (code, signal) => {
  if (signal) {
    process.kill(process.pid, signal);
  } else {
    process.exit(code ?? 1);
  }
});
