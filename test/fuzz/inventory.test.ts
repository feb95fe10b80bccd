// Fuzzing the inventory's text readers: dpkg status, apk installed, os-release, apk repositories (see harness.ts).
import { fuzzSuite } from './harness.ts';

fuzzSuite(['dpkg-status', 'apk-installed', 'os-release', 'alpine-repositories']);
