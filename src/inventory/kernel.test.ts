import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { kernelReleaseProblem, runningKernel } from './kernel.ts';

test('root / reports the running kernel, as uname -r prints it', () => {
  assert.equal(runningKernel('/'), execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim());
  assert.equal(runningKernel('/tmp/..'), runningKernel('/'));
});

test('another root: only what --kernel says, else null', () => {
  assert.equal(runningKernel('/srv/image'), null);
  assert.equal(runningKernel('/srv/image', '6.1.0-18-amd64'), '6.1.0-18-amd64');
  assert.equal(runningKernel('/', '5.14.0-362.8.1.el9_3.x86_64'), '5.14.0-362.8.1.el9_3.x86_64');
});

test('kernel releases are validated', () => {
  for (const ok of ['6.1.0-18-amd64', '6.6.9-arch1-1', '5.15.0-1051-aws', '4.18.0-513.el8.x86_64', '6.8.0+']) {
    assert.equal(kernelReleaseProblem(ok), null, ok);
  }
  assert.equal(kernelReleaseProblem(''), 'empty kernel release');
  assert.equal(kernelReleaseProblem('6.1 ; rm'), 'invalid kernel release "6.1 ; rm"');
  assert.throws(() => runningKernel('/x', '-rf'), /invalid kernel release "-rf"/);
});
