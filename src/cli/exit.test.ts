import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PatchloopError } from '../core/errors.ts';
import { ServerAddressError } from '../agent/http.ts';
import { RequestError } from '../net/http.ts';
import { ConfigError } from '../config/load.ts';
import { LockHeldError } from '../vulndb/lock.ts';
import { EXIT, exitFor } from './exit.ts';

test('exit statuses follow the error codes; scan turns every other failure into 3', () => {
  const cases: [unknown, string, number, string][] = [
    [
      new PatchloopError('PL_E_USAGE', '--uses must be a whole number'),
      'server enrollment-token',
      EXIT.usage,
      '--uses must be a whole number',
    ],
    [
      new ConfigError('server.yaml:3: listen.port: Too big'),
      'server run',
      EXIT.usage,
      'server.yaml:3: listen.port: Too big',
    ],
    [new ServerAddressError('server URL "htp:/" …'), 'agent enroll', EXIT.usage, 'server URL "htp:/" …'],
    [new ConfigError('agent.yaml is invalid'), 'scan', EXIT.usage, 'agent.yaml is invalid'],
    [
      new RequestError('POST http://central:8080/api/v1/reports', 'network', 'ECONNREFUSED', 'ECONNREFUSED', null),
      'agent run',
      EXIT.tempfail,
      'server unreachable: POST http://central:8080/api/v1/reports: ECONNREFUSED',
    ],
    [
      new RequestError(
        'GET https://central:8080/api/v1/health',
        'untrusted',
        'SELF_SIGNED_CERT_IN_CHAIN: self-signed certificate',
        'SELF_SIGNED_CERT_IN_CHAIN',
        null,
      ),
      'agent run',
      EXIT.failure,
      'GET https://central:8080/api/v1/health: SELF_SIGNED_CERT_IN_CHAIN: self-signed certificate',
    ],
    [
      new LockHeldError('/d/vulndb/debian.lock', 42, 'another update of feed debian is running'),
      'db update',
      EXIT.failure,
      'another update of feed debian is running (pid 42; lock /d/vulndb/debian.lock)',
    ],
    [
      new LockHeldError('/d/vulndb/debian.lock', null, 'locked'),
      'scan',
      EXIT.cannotScan,
      'cannot scan: locked (pid not recorded; lock /d/vulndb/debian.lock)',
    ],
    [
      new PatchloopError('PL_E_CANNOT_PATCH', 'patch: must run as root'),
      'patch',
      EXIT.cannotScan,
      'patch: must run as root',
    ],
    [new RangeError('boom'), 'inventory', EXIT.failure, 'boom'],
  ];
  for (const [err, command, code, message] of cases)
    assert.deepEqual(exitFor(err, command), { code, message }, `${command}: ${String(err)}`);
});
