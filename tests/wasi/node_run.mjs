// Run a wasm32-wasi program under node's own WASI (node:wasi), the reference
// that tests/test_wasi_guest.c compares leonardo against.  It takes the same
// options as `leonardo run`, so the harness calls both the same way:
//
//   node tests/wasi/node_run.mjs [--dir HOST[::GUEST]]... [--env K=V]... FILE [ARGS...]
//
// The program's argv[0] is FILE, as under leonardo; stdin, stdout and
// stderr are node's own; node exits with the program's exit status.
// Works on node 18.19 (Debian 12), run with --experimental-wasi-unstable-preview1
// (the harness passes it to node before 20), and node 20+, which needs
// version: 'preview1'.
import { readFileSync } from 'node:fs';
import { WASI } from 'node:wasi';

// node prints "ExperimentalWarning: WASI is an experimental feature" on
// stderr; the comparison is of stdout, but keep stderr the program's own.
process.removeAllListeners('warning');
process.on('warning', (w) => {
    if (w.name !== 'ExperimentalWarning') process.stderr.write(`${w.name}: ${w.message}\n`);
});

const argv = process.argv.slice(2);
const preopens = {};
const env = {};
let i = 0;
for (; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--dir' && i + 1 < argv.length) {
        const spec = argv[++i];
        const sep = spec.indexOf('::');
        const host = sep < 0 ? spec : spec.slice(0, sep);
        const guest = sep < 0 ? spec : spec.slice(sep + 2);
        preopens[guest] = host;
    } else if (a === '--env' && i + 1 < argv.length) {
        const kv = argv[++i];
        const eq = kv.indexOf('=');
        if (eq < 0) {
            process.stderr.write(`node_run: --env wants K=V, got ${kv}\n`);
            process.exit(2);
        }
        env[kv.slice(0, eq)] = kv.slice(eq + 1);
    } else if (a === '--') {
        i++;
        break;
    } else if (a.startsWith('--')) {
        process.stderr.write(`node_run: unknown option ${a}\n`);
        process.exit(2);
    } else {
        break;
    }
}
if (i >= argv.length) {
    process.stderr.write('usage: node node_run.mjs [--dir H[::G]]... [--env K=V]... FILE [ARGS...]\n');
    process.exit(2);
}
const file = argv[i];
const args = argv.slice(i);

const wasi = new WASI({
    version: 'preview1',
    args,
    env,
    preopens,
    stdin: 0,
    stdout: 1,
    stderr: 2,
    returnOnExit: true,
});
const module = await WebAssembly.compile(readFileSync(file));
// A guest may import leonardo's process API; node has none, so such a
// guest cannot be compared (instantiate fails and says which import).
// wasi.wasiImport rather than getImportObject(), which node 18 may lack.
const instance = await WebAssembly.instantiate(module, { wasi_snapshot_preview1: wasi.wasiImport });
let status;
try {
    status = wasi.start(instance);
} catch (e) {
    process.stderr.write(`node_run: ${e && e.stack ? e.stack : e}\n`);
    status = 134;
}
process.exitCode = status;
