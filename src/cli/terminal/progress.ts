// One line of progress on a terminal's stderr, rewritten in place ("debian: downloading …
// 12 MiB of 40 MiB"). Piped or redirected it writes nothing: logs and scripts see only the
// results. Lines of other output go through `print` so they do not land on the progress line.

export interface Progress {
  /** Shows `text` (at most ten times a second, unless `now`). */
  show(text: string, now?: boolean): void;
  /** Writes a whole line of other output to stderr, above the progress line. */
  print(line: string): void;
  /** Takes the progress line away. */
  clear(): void;
}

const INTERVAL_MS = 100;

export function terminalProgress(stream: NodeJS.WriteStream = process.stderr): Progress {
  const tty = stream.isTTY === true;
  let shown = '';
  let last = 0;
  const clear = (): void => {
    if (shown) stream.write('\r\x1b[2K');
    shown = '';
  };
  return {
    show(text, now = false) {
      if (!tty) return;
      const t = Date.now();
      if (!now && shown && t - last < INTERVAL_MS) return;
      last = t;
      const width = (stream.columns || 80) - 1;
      const line = text.length > width ? `${text.slice(0, width - 1)}…` : text;
      stream.write(`\r\x1b[2K${line}`);
      shown = line;
    },
    print(line) {
      clear();
      stream.write(line.endsWith('\n') ? line : `${line}\n`);
    },
    clear,
  };
}
