// Fuzzing the vulnerability feeds' formats: Debian tracker JSON and advisory lists, OSV,
// updateinfo.xml, Red Hat CSAF, Alpine secdb in JSON and YAML (see harness.ts).
import { fuzzSuite } from './harness.ts';

fuzzSuite(['debian-tracker', 'debian-advisory-list', 'osv', 'updateinfo', 'redhat-csaf', 'alpine-secdb-json', 'alpine-secdb-yaml']);
