// Base scores against the examples FIRST publishes with each specification (v3.1 §7.4 and the
// calculator's examples, v4.0 specification examples) and against malformed vectors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cvssBaseScore, cvssScore } from './cvss.ts';

test('FIRST test vectors: v2.0, v3.0, v3.1 and v4.0 base scores', () => {
  const cases: [string, string, number][] = [
    // v2 guide, §3.3.1 (CVE-2002-0392) and §3.3.2 (CVE-2003-0818)
    ['AV:N/AC:L/Au:N/C:N/I:N/A:C', '2.0', 7.8],
    ['AV:N/AC:L/Au:N/C:C/I:C/A:C', '2.0', 10],
    // v3.1 specification examples
    ['CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', '3.1', 9.8],
    ['CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N', '3.1', 6.1],
    ['CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H', '3.1', 7.8],
    ['CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:C/C:H/I:H/A:H', '3.1', 9],
    ['CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H', '3.1', 10],
    ['CVSS:3.0/AV:N/AC:L/PR:L/UI:N/S:C/C:L/I:L/A:N', '3.0', 6.4],
    ['CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:U/C:N/I:N/A:N', '3.1', 0],
    // v4.0 specification / calculator examples
    ['CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N', '4.0', 9.3],
    ['CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:N/VA:N/SC:N/SI:N/SA:N', '4.0', 8.7],
    ['CVSS:4.0/AV:L/AC:L/AT:N/PR:L/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N', '4.0', 8.5],
    ['CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H', '4.0', 10],
  ];
  for (const [vector, version, score] of cases) assert.deepEqual(cvssBaseScore(vector), { version, score }, vector);
});

test('a vector that is not a complete, valid base vector has no score', () => {
  for (const bad of [
    'CVSS:4.0/AV:N', // incomplete: the library alone would say 0
    'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H', // A missing
    'CVSS:3.1/AV:Q/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', // no such value
    'CVSS:3.1/AV:N/AV:L/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', // twice
    'CVSS:5.0/AV:N',
    'garbage',
    '',
    'high',
  ])
    assert.equal(cvssBaseScore(bad), null, bad);
});

test('a score keeps its vector and scorer; temporal metrics do not change the base score', () => {
  assert.deepEqual(cvssScore(' CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N/E:U/RL:O ', 'nvd'), {
    version: '3.1',
    score: 7.5,
    vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N/E:U/RL:O',
    source: 'nvd',
  });
});
