// Fuzzing the bodies agents send the server, through the schemas that validate them (see harness.ts).
import { fuzzSuite } from './harness.ts';

fuzzSuite(['report-body', 'patch-run-body']);
