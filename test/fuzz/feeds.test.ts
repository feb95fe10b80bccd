// Fuzzing the vulnerability feeds' formats: Debian tracker JSON, advisory and support lists, OSV, Ubuntu's OSV and
// OpenVEX,
// updateinfo.xml (Rocky's and Amazon Linux's), repomd.xml and mirror lists, Red Hat CSAF, Alpine secdb in JSON and YAML
// (see harness.ts).
import { fuzzSuite } from './harness.ts';

fuzzSuite([
  'debian-tracker',
  'debian-advisory-list',
  'debian-support-lists',
  'osv',
  'ubuntu',
  'updateinfo',
  'amazon-updateinfo',
  'repodata',
  'redhat-csaf',
  'alpine-secdb-json',
  'alpine-secdb-yaml',
]);
