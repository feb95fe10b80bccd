// Fuzzing the vulnerability feeds' formats: Debian tracker JSON, advisory and support lists, OSV, Ubuntu's OSV and OpenVEX,
// updateinfo.xml, Red Hat CSAF, Alpine secdb in JSON and YAML (see harness.ts).
import { fuzzSuite } from './harness.ts';

fuzzSuite(['debian-tracker', 'debian-advisory-list', 'debian-support-lists', 'osv', 'ubuntu', 'updateinfo', 'redhat-csaf', 'alpine-secdb-json', 'alpine-secdb-yaml']);
