// Log lines for a person: on a terminal a command's pino logger writes warnings and errors as
// plain `patchloop: warning: …` lines on stderr (the command prints its own summary); piped,
// or with --log-format json, the JSON lines are kept for systemd and log collectors.
import type { DestinationStream } from 'pino';

export type LogFormat = 'human' | 'json';

export const LOG_FORMATS: LogFormat[] = ['human', 'json'];

/** The format asked for, else human when stdout is a terminal, else JSON. */
export function logFormat(asked: LogFormat | undefined): LogFormat {
  return asked ?? (process.stdout.isTTY ? 'human' : 'json');
}

const LEVEL_WORD: Record<number, string> = { 40: 'warning', 50: 'error', 60: 'fatal error' };

/** A pino destination writing each line at warning level or above as one sentence. */
export function humanLogStream(write = (s: string) => process.stderr.write(s)): DestinationStream {
  return {
    write(line: string) {
      const entry = JSON.parse(line) as { level: number; msg?: string; err?: unknown };
      const word = LEVEL_WORD[entry.level];
      if (!word) return;
      const why = typeof entry.err === 'string' ? `: ${entry.err}` : '';
      write(`patchloop: ${word}: ${entry.msg ?? ''}${why}\n`);
    },
  };
}
