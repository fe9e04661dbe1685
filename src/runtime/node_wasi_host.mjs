// node_wasi_host.mjs -- runs one WASI command module under node's WASI
// preview1 (V8 compiles it: TurboFan with --no-liftoff, Liftoff alone with
// --liftoff --no-wasm-tier-up). stdin, stdout and stderr pass through as
// WASI fds 0, 1 and 2; the module's exit status is node's.
// Usage: node [v8 flags] node_wasi_host.mjs [--dir HOST::GUEST]... [--env K=V]...
//        MODULE.wasm [ARGS...]
import { WASI } from 'node:wasi';
import { readFileSync } from 'node:fs';

const argv = process.argv.slice(2);
const preopens = {};
const env = {};
while (argv.length && argv[0].startsWith('--')) {
  const opt = argv.shift();
  const val = argv.shift();
  if (opt === '--dir' && val !== undefined) {
    const sep = val.indexOf('::');
    preopens[sep < 0 ? val : val.slice(sep + 2)] = sep < 0 ? val : val.slice(0, sep);
  } else if (opt === '--env' && val !== undefined && val.includes('=')) {
    env[val.slice(0, val.indexOf('='))] = val.slice(val.indexOf('=') + 1);
  } else {
    console.error(`node_wasi_host: bad option ${opt} ${val ?? ''}`);
    process.exit(2);
  }
}
const modulePath = argv[0];
if (!modulePath) {
  console.error('usage: node node_wasi_host.mjs [--dir HOST::GUEST] [--env K=V] MODULE.wasm [ARGS]');
  process.exit(2);
}
const wasi = new WASI({ version: 'preview1', args: argv, env, preopens, returnOnExit: true });
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
