// Shell completions for bash, zsh and fish, generated from the command tree: command names at
// each level, the options of the command being typed, the values of options that declare their
// choices, and file or directory names for options whose value is a path.
import { allCommands, type CommandNode, type OptionNode } from './command-tree.ts';

/** "/db/update" for `patchloop db update`: the key each shell switches on. */
const key = (c: CommandNode): string => c.path.map((p) => `/${p}`).join('');

/** How an option's value completes: its choices, a directory, a file, or free text. */
function valueKind(o: OptionNode): { kind: 'choices'; values: string[] } | { kind: 'dir' | 'file' | 'text' } | null {
  if (!o.value) return null;
  if (o.choices.length) return { kind: 'choices', values: o.choices };
  if (/dir/i.test(o.value)) return { kind: 'dir' };
  if (/file|path|policy|root/i.test(o.value)) return { kind: /root/i.test(o.value) ? 'dir' : 'file' };
  return { kind: 'text' };
}

const names = (o: OptionNode): string[] => [o.short, o.long].filter((n): n is string => n !== null);
const single = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/** Every command path ("/db", "/db/update"): the words that descend into a subcommand. */
function pathCases(tree: CommandNode): string[] {
  return allCommands(tree)
    .slice(1)
    .map((c) => key(c));
}

/** What differs between the bash and zsh functions; their shape is the same. */
interface Dialect {
  header: string[];
  /** The word array, and the index of the first word after `patchloop`. */
  words: string;
  first: number;
  /** The index of the word being completed. */
  current: string;
  value: (kind: NonNullable<ReturnType<typeof valueKind>>) => string;
  /** Assigns the subcommands and options of one command. */
  lists: (c: CommandNode) => string;
  complete: string[];
}

/**
 * The shared shape: walk the typed words to the command path, complete an option's value when
 * the previous word is an option that takes one, else the subcommands or the options.
 */
function shellFunction(tree: CommandNode, d: Dialect): string {
  const all = allCommands(tree);
  const lines = [
    ...d.header,
    `  for ((i = ${d.first}; i < ${d.current}; i++)); do`,
    `    case "$cmdpath/\${${d.words}[i]}" in`,
    `      ${pathCases(tree).map(single).join('|')}) cmdpath="$cmdpath/\${${d.words}[i]}" ;;`,
    '    esac',
    '  done',
    '  case "$cmdpath $prev" in',
  ];
  for (const c of all) {
    for (const o of c.options) {
      const v = valueKind(o);
      if (v)
        lines.push(
          `    ${names(o)
            .map((n) => single(`${key(c)} ${n}`))
            .join('|')}) ${d.value(v)}; return ;;`,
        );
    }
  }
  lines.push('  esac', '  case "$cmdpath" in');
  for (const c of all) lines.push(`    ${single(key(c))}) ${d.lists(c)} ;;`);
  lines.push('  esac', ...d.complete, '');
  return lines.join('\n');
}

export function bashCompletion(tree: CommandNode): string {
  return shellFunction(tree, {
    header: [
      '# bash completion for patchloop, generated from its commands (scripts/packaging/completions.ts).',
      '_patchloop() {',
      '  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]} cmdpath="" i subs="" opts=""',
    ],
    words: 'COMP_WORDS',
    first: 1,
    current: 'COMP_CWORD',
    value: (v) =>
      v.kind === 'choices'
        ? `COMPREPLY=($(compgen -W ${single(v.values.join(' '))} -- "$cur"))`
        : v.kind === 'dir'
          ? 'COMPREPLY=($(compgen -d -- "$cur"))'
          : v.kind === 'file'
            ? 'COMPREPLY=($(compgen -f -- "$cur"))'
            : 'COMPREPLY=()',
    lists: (c) =>
      `subs=${single(c.commands.map((s) => s.path.at(-1)).join(' '))}; opts=${single(c.options.flatMap(names).join(' '))}`,
    complete: [
      '  if [[ $cur == -* || -z $subs ]]; then',
      '    COMPREPLY=($(compgen -W "$opts" -- "$cur"))',
      '  else',
      '    COMPREPLY=($(compgen -W "$subs" -- "$cur"))',
      '  fi',
      '}',
      'complete -F _patchloop patchloop',
    ],
  });
}

/** zsh: `_describe` entries are "name:description", with colons in the name escaped. */
const described = (name: string, description: string): string =>
  single(`${name.replace(/:/g, '\\:')}:${description.replace(/\n/g, ' ')}`);

export function zshCompletion(tree: CommandNode): string {
  return shellFunction(tree, {
    header: [
      '#compdef patchloop',
      '# zsh completion for patchloop, generated from its commands (scripts/packaging/completions.ts).',
      '_patchloop() {',
      '  local cmdpath="" prev=${words[CURRENT-1]} i',
      '  local -a subs opts',
    ],
    words: 'words',
    first: 2,
    current: 'CURRENT',
    value: (v) =>
      v.kind === 'choices'
        ? `compadd -- ${v.values.map(single).join(' ')}`
        : v.kind === 'dir'
          ? '_files -/'
          : v.kind === 'file'
            ? '_files'
            : '_message value',
    lists: (c) =>
      `subs=(${c.commands.map((s) => described(s.path.at(-1)!, s.description)).join(' ')}); opts=(${c.options.flatMap((o) => names(o).map((n) => described(n, o.description))).join(' ')})`,
    complete: [
      '  if [[ ${words[CURRENT]} == -* || ${#subs} -eq 0 ]]; then',
      "    _describe -t options 'option' opts",
      '  else',
      "    _describe -t commands 'command' subs",
      '  fi',
      '}',
      '_patchloop "$@"',
    ],
  });
}

export function fishCompletion(tree: CommandNode): string {
  const all = allCommands(tree);
  const lines = [
    '# fish completion for patchloop, generated from its commands (scripts/packaging/completions.ts).',
    'function __patchloop_path --description "the patchloop command being typed, as patchloop/db/update"',
    '    set -l words (commandline -opc)',
    '    set -e words[1]',
    '    set -l cmdpath ""',
    '    for w in $words',
    '        switch "$cmdpath/$w"',
    `            case ${pathCases(tree).map(single).join(' ')}`,
    '                set cmdpath "$cmdpath/$w"',
    '        end',
    '    end',
    '    echo "patchloop$cmdpath"',
    'end',
    'complete -c patchloop -f',
  ];
  for (const c of all) {
    const when = `-n ${single(`test (__patchloop_path) = patchloop${key(c)}`)}`;
    for (const s of c.commands)
      lines.push(`complete -c patchloop ${when} -a ${single(s.path.at(-1)!)} -d ${single(s.description)}`);
    for (const o of c.options) {
      const flags = [o.short ? `-s ${o.short.slice(1)}` : '', o.long ? `-l ${o.long.slice(2)}` : '']
        .filter(Boolean)
        .join(' ');
      const v = valueKind(o);
      const value = !v
        ? ''
        : v.kind === 'choices'
          ? ` -x -a ${single(v.values.join(' '))}`
          : v.kind === 'dir'
            ? ` -x -a '(__fish_complete_directories)'`
            : v.kind === 'file'
              ? ' -r -F'
              : ' -x';
      lines.push(`complete -c patchloop ${when} ${flags}${value} -d ${single(o.description)}`);
    }
  }
  lines.push('');
  return lines.join('\n');
}
