// The fuzz worker: runs one input through one target and says how it went. It runs in a worker
// thread so that the harness can stop it when an input hangs and can bound its heap: a parser
// that loops or hoards memory is a finding, not a stuck test run.
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { target } from './targets/index.ts';

export interface WorkRequest {
  id: number;
  target: string;
  input: Uint8Array;
}

export type WorkResult =
  | { id: number; outcome: 'ok' }
  | { id: number; outcome: 'clear'; name: string; message: string }
  | { id: number; outcome: 'crash'; name: string; message: string; stack: string };

const scratchRoot = (workerData as { scratch: string }).scratch;
const port = parentPort;
if (!port) throw new Error('the fuzz worker runs in a worker thread');

let n = 0;
port.on('message', async (req: WorkRequest) => {
  const t = target(req.target);
  // A fresh directory per input: files a parser finds beside its input are the input's own.
  const scratch = path.join(scratchRoot, String(n++));
  mkdirSync(scratch, { recursive: true });
  let result: WorkResult;
  try {
    await t.run(req.input, scratch);
    result = { id: req.id, outcome: 'ok' };
  } catch (err) {
    const e = err instanceof Error ? err : new Error(`non-Error thrown: ${String(err)}`);
    const clear = t.clear.some((c) => err instanceof c) && e.message.trim() !== '';
    result = clear
      ? { id: req.id, outcome: 'clear', name: e.name, message: e.message }
      : { id: req.id, outcome: 'crash', name: e.name, message: e.message, stack: e.stack ?? '' };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  port.postMessage(result);
});
// The targets are loaded (static imports): the harness starts its clock per input from here.
port.postMessage('ready');
