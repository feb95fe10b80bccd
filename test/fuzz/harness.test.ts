// The fuzz harness itself: it must notice what it is there to notice. Each self-test target
// misbehaves on some inputs (see targets/selftest.ts); the harness must report the right kind
// of failure and keep the input that caused it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FuzzWorker, fuzzTarget, settingsFrom, type FuzzReport, type FuzzSettings, type Verdict } from './harness.ts';

/** Fuzzes a self-test target with small budgets: the misbehaviour is certain, only its detection is in question. */
async function selfTest(
  t: { after(fn: () => void): void },
  name: string,
): Promise<{ report: FuzzReport; worker: FuzzWorker }> {
  const findings = mkdtempSync(path.join(tmpdir(), 'patchloop-fuzz-selftest-'));
  const s: FuzzSettings = {
    ...settingsFrom({}),
    runs: 100,
    seed: 42,
    timeoutMs: 2_000,
    heapMb: 64,
    shrinkSeconds: 5,
    findings,
  };
  const worker = new FuzzWorker(s);
  t.after(async () => {
    await worker.close();
    rmSync(findings, { recursive: true, force: true });
  });
  return { report: await fuzzTarget(name, worker, s), worker };
}

/** The failure a report must hold, and the bytes of the input it kept. */
function failureOf(r: FuzzReport): { verdict: Verdict; input: Buffer } {
  assert.ok(r.failure, `${r.target}: no failure found in ${r.runs} inputs`);
  return { verdict: r.failure.verdict, input: readFileSync(r.failure.file) };
}

test('an input that never finishes is reported as a hang, its bytes kept', async (t) => {
  const { report, worker } = await selfTest(t, 'selftest-hang');
  const { verdict, input } = failureOf(report);
  assert.equal(verdict.outcome, 'hang');
  assert.ok(input.includes(7), 'the kept input holds the byte that hangs the target');
  // The worker is replaced: the next input is answered.
  assert.equal((await worker.run('selftest-hang', new Uint8Array(4))).outcome, 'ok');
});

test('a TypeError from deep inside is a crash, not a clear refusal', async (t) => {
  const { verdict, input } = failureOf((await selfTest(t, 'selftest-crash')).report);
  assert.equal(verdict.outcome, 'crash');
  assert.equal(verdict.outcome === 'crash' && verdict.name, 'TypeError');
  assert.notEqual(input[0], 0);
});

test('an input that makes the parser hoard memory is reported as such', async (t) => {
  const { verdict, input } = failureOf((await selfTest(t, 'selftest-memory')).report);
  assert.equal(verdict.outcome, 'memory');
  assert.ok(input.includes(9));
});

test('the errors a target declares as its clear refusal pass, and are counted', async (t) => {
  const { report } = await selfTest(t, 'selftest-clear');
  assert.equal(report.failure, null);
  assert.deepEqual(report.replayFailures, []);
  assert.equal(report.runs, 100);
  assert.ok(report.refused > 50, `${report.refused} of 100 refused`);
  assert.equal(report.accepted + report.refused, 100);
});
