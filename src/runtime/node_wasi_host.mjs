// node_wasi_host.mjs -- runs one Lumos function module under node's WASI
// preview1 (V8 compiles it: TurboFan with --no-liftoff, Liftoff with
// --liftoff --no-wasm-tier-up). The module speaks the frame channel on its
// own stdin/stdout, which node passes through as WASI fds 0 and 1.
// Usage: node [v8 flags] node_wasi_host.mjs MODULE.wasm
// Environment: LUMOS_RUNTIME (the name the function reports), and
// LUMOS_DATA_DIR_HOST (a host directory preopened as /data).
import { WASI } from 'node:wasi';
import { readFileSync } from 'node:fs';

const modulePath = process.argv[2];
if (!modulePath) {
  console.error('usage: node node_wasi_host.mjs MODULE.wasm');
  process.exit(2);
}
const env = { LUMOS_RUNTIME: process.env.LUMOS_RUNTIME || 'wasm-jit' };
const preopens = {};
if (process.env.LUMOS_DATA_DIR_HOST) {
  preopens['/data'] = process.env.LUMOS_DATA_DIR_HOST;
  env.LUMOS_DATA_DIR = '/data';
}
const wasi = new WASI({ version: 'preview1', args: [modulePath], env, preopens, returnOnExit: true });
let instance;
try {
  const module = await WebAssembly.compile(readFileSync(modulePath));
  instance = await WebAssembly.instantiate(module, wasi.getImportObject());
} catch (e) {
  console.error(`lumos: cannot load ${modulePath}: ${e.message}`);
  process.exit(3);
}
try {
  process.exitCode = wasi.start(instance);
} catch (e) {
  // A trap (unreachable, out-of-bounds access, stack overflow) ends here.
  console.error(`lumos: wasm trap: ${e.message}`);
  process.exitCode = 134;
}
