// node_wasi_host.mjs -- runs one WASI command module under node's WASI
// preview1 (V8 compiles it: TurboFan with --no-liftoff, Liftoff alone with
// --liftoff --no-wasm-tier-up). stdin, stdout and stderr pass through as
// WASI fds 0, 1 and 2; the module's exit status is node's.
// Usage: node [v8 flags] node_wasi_host.mjs [--dir HOST::GUEST]... [--env K=V]...
//        MODULE.wasm [ARGS...]
import { WASI } from 'node:wasi';
import { readFileSync, writeSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

// A function instance's host reports its cold start's marks on the channel
// as MARK frames (src/proto/mark.h: kind, CLOCK_MONOTONIC ns; LUMOS_MARKS is
// set by lumos). process.hrtime is CLOCK_MONOTONIC; node's own start is
// performance.nodeTiming.nodeStart, on performance.now()'s scale.
const marks = process.env.LUMOS_MARKS !== undefined;
function mark(pairs) {
  const buf = Buffer.alloc(8 + 16 * pairs.length);
  buf.writeUInt8(0x4c, 0);
  buf.writeUInt8(11, 1);
  buf.writeUInt32LE(16 * pairs.length, 4);
  pairs.forEach(([kind, t], i) => {
    buf.writeBigUInt64LE(BigInt(kind), 8 + 16 * i);
    buf.writeBigUInt64LE(t, 16 + 16 * i);
  });
  writeSync(1, buf);
}
if (marks) {
  const now = process.hrtime.bigint();
  const sinceStart = performance.now() - performance.nodeTiming.nodeStart;
  mark([[1, now - BigInt(Math.round(sinceStart * 1e6))]]);
}

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
  const loadNs = process.hrtime.bigint();
  const module = await WebAssembly.compile(readFileSync(modulePath));
  if (marks) mark([[3, loadNs], [4, process.hrtime.bigint()]]);
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
