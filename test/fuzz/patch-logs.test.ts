// Fuzzing the package managers' logs and outputs the patch backends parse (see harness.ts).
import { fuzzSuite } from './harness.ts';

fuzzSuite(['unattended-upgrades-log', 'unattended-upgrades-dpkg-log', 'apt-history-log', 'dnf-output', 'apk-output']);
