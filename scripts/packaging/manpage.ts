// patchloop(1): the man page, in roff (man macros), generated from the command tree.
import { allCommands, type CommandNode } from './command-tree.ts';

/**
 * Text safe in roff: backslashes and hyphens escaped, other than ASCII as \[uXXXX], no line starting with a control
 * character.
 */
function roff(text: string): string {
  return text
    .replace(/\\/g, '\\e')
    .replace(/-/g, '\\-')
    .replace(/[\u0080-\u{10FFFF}]/gu, (ch) => `\\[u${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}]`)
    .split('\n')
    .map((line) => (/^[.']/.test(line) ? `\\&${line}` : line))
    .join('\n');
}

function commandSection(c: CommandNode): string[] {
  const usage = ['patchloop', ...c.path].join(' ');
  const hasSub = c.commands.length > 0;
  const lines = [
    `.SS "${roff(usage)}${c.args ? ` ${roff(c.args)}` : ''}${hasSub ? ' \\fIcommand\\fR' : ''}"`,
    roff(sentence(c.description)),
  ];
  for (const o of c.options) {
    const names = [o.short, o.long]
      .filter(Boolean)
      .map((n) => `\\fB${roff(n!)}\\fR`)
      .join(', ');
    lines.push('.TP', `${names}${o.value ? ` \\fI${roff(o.value)}\\fR` : ''}`);
    const extra = [
      o.choices.length ? `One of: ${o.choices.join(', ')}.` : '',
      o.defaultValue !== null ? `Default: ${o.defaultValue}.` : '',
    ]
      .filter(Boolean)
      .join(' ');
    lines.push(roff(`${sentence(o.description)}${extra ? ` ${extra}` : ''}`));
  }
  if (hasSub) lines.push('.PP', roff(`Commands: ${c.commands.map((s) => s.path.at(-1)).join(', ')}.`));
  return lines;
}

/** Help texts are phrases ("output format"); the page prints them as sentences. */
function sentence(text: string): string {
  const t = text.trim().replace(/^[a-z]/, (ch) => ch.toUpperCase());
  if (!t) return '';
  return /[.!?]$/.test(t) ? t : `${t}.`;
}

/** The whole page. `date` (YYYY-MM-DD) is the build's, so the page is reproducible. */
export function manPage(root: CommandNode, version: string, date: string): string {
  const commands = allCommands(root).slice(1);
  const top = root.commands.map((c) => c.path[0]);
  const lines = [
    `.TH PATCHLOOP 1 "${date}" "patchloop ${roff(version)}" "patchloop manual"`,
    '.SH NAME',
    `patchloop \\- ${roff(root.description.replace(/^./, (ch) => ch.toLowerCase()).replace(/\.$/, ''))}`,
    '.SH SYNOPSIS',
    '.B patchloop',
    '.I command',
    '.RI [ options ]',
    '.br',
    '.B patchloop',
    '.RB [ \\-\\-version | \\-\\-help ]',
    '.SH DESCRIPTION',
    roff(
      'patchloop keeps a fleet of Linux hosts patched, and proves it: each host scans its installed packages for known vulnerabilities, ' +
        'reports them to a central server (with a dashboard) or to Elasticsearch/OpenSearch, and is patched by unattended-upgrades, ' +
        'dnf-automatic or apk under a policy. Every command prints its own help with --help.',
    ),
    '.PP',
    roff(`Commands: ${top.join(', ')}.`),
    '.SH OPTIONS',
    ...root.options.flatMap((o) => [
      '.TP',
      `\\fB${roff([o.short, o.long].filter(Boolean).join(', '))}\\fR`,
      roff(sentence(o.description)),
    ]),
    '.SH COMMANDS',
    ...commands.flatMap(commandSection),
    '.SH EXIT STATUS',
    '.TP',
    '.B 0',
    'Success.',
    '.TP',
    '.B 1',
    roff('scan: --fail-on was given and met. Other commands: the operation failed.'),
    '.TP',
    '.B 2',
    'Usage error: a flag, a configuration file, an address or a policy is wrong.',
    '.TP',
    '.B 3',
    'scan: the host cannot be scanned; patch: the host cannot be patched.',
    '.TP',
    '.B 75',
    'agent: the server was unreachable; the report stays spooled.',
    '.SH ENVIRONMENT',
    '.TP',
    '.B PATCHLOOP_HOME',
    roff('The data directory (default: /var/lib/patchloop as root, else ~/.local/share/patchloop).'),
    '.TP',
    '.B PATCHLOOP_LOG_LEVEL',
    'Log level of the server and the agent (fatal, error, warn, info, debug, trace, silent).',
    '.TP',
    '.B PATCHLOOP_DEBUG',
    'When set, errors are printed with their stack.',
    '.SH FILES',
    '.TP',
    '.I /etc/patchloop/agent.yaml',
    'The agent configuration (agent.yaml.example documents every key).',
    '.TP',
    '.I /etc/patchloop/server.yaml',
    'The server configuration (server.yaml.example documents every key).',
    '.TP',
    '.I /var/lib/patchloop',
    roff('The vulnerability DB (standalone scans), the agent state (agent/) and the server data (server/).'),
    '.TP',
    '.I /usr/lib/systemd/system/patchloop-*.{service,timer}',
    'The agent run (daily) and spool flush (hourly) timers and the server service; installed, not enabled.',
    '.SH SEE ALSO',
    '.BR apt (8),',
    '.BR unattended\\-upgrade (8),',
    '.BR dnf\\-automatic (8),',
    '.BR systemctl (1)',
  ];
  return `${lines.join('\n')}\n`;
}
