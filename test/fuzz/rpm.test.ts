// Fuzzing rpm header blobs and the three rpm package databases (see harness.ts).
import { fuzzSuite } from './harness.ts';

fuzzSuite(['rpm-header', 'rpm-sqlite', 'rpm-bdb', 'rpm-ndb']);
