// Targets that misbehave on purpose, for the harness's own test: a hang, a crash from deep
// inside, unbounded memory. The suite's verdicts are worth only as much as its ability to
// notice these.
import type { FuzzTarget } from './common.ts';

const hasByte = (input: Uint8Array, b: number): boolean => input.includes(b);

const base = {
  kind: 'binary' as const,
  seeds: () => [{ name: 'zeros', bytes: new Uint8Array(8) }],
  clear: [RangeError],
};

export const selfTestTargets: FuzzTarget[] = [
  {
    ...base,
    name: 'selftest-hang',
    run(input) {
      // Spins for ever once the input holds a 0x07 byte.
      let n = 0;
      while (hasByte(input, 7)) n++;
      return n;
    },
  },
  {
    ...base,
    name: 'selftest-crash',
    run(input) {
      const table: Record<number, { length: number }> = { 0: { length: 0 } };
      // A TypeError from deep inside once the first byte is not zero.
      return table[input[0] ?? 0].length;
    },
  },
  {
    ...base,
    name: 'selftest-memory',
    run(input) {
      if (!hasByte(input, 9)) return 0;
      const hoard: number[][] = [];
      for (;;) hoard.push(new Array(1 << 16).fill(input.length));
    },
  },
  {
    ...base,
    name: 'selftest-clear',
    run(input) {
      // Refuses every non-empty input with the class it declares as clear.
      if (input.length > 0) throw new RangeError(`refused ${input.length} bytes`);
      return 0;
    },
  },
];
