// The CLI's commands as plain data, read from the commander program itself (src/cli/program.ts):
// the man page and the shell completions are generated from it, so they list exactly the
// commands and options `--help` shows.
import type { Command, Option } from 'commander';

export interface OptionNode {
  /** As written in --help: "-f, --format <format>". */
  flags: string;
  long: string | null;
  short: string | null;
  description: string;
  /** The value's placeholder ("format", "dir"), null for a flag that takes none. */
  value: string | null;
  /** The accepted values, when the option declares them. */
  choices: string[];
  defaultValue: string | null;
}

export interface CommandNode {
  /** Names from the program down: [] for the program, ["db", "update"] for `patchloop db update`. */
  path: string[];
  description: string;
  /** The arguments as in the usage line: "[a] [b]". */
  args: string;
  options: OptionNode[];
  commands: CommandNode[];
}

function optionNode(o: Option): OptionNode {
  const value = /[<[]([^>\]]+)[>\]]/.exec(o.flags)?.[1] ?? null;
  const def =
    o.defaultValue === undefined || typeof o.defaultValue === 'boolean'
      ? null
      : JSON.stringify(o.defaultValue).replace(/^"|"$/g, '');
  return {
    flags: o.flags,
    long: o.long ?? null,
    short: o.short ?? null,
    description: o.description,
    value,
    choices: [...(o.argChoices ?? [])],
    defaultValue: def,
  };
}

/** The tree below `command`; help options are added to every command, as commander does. */
export function commandTree(command: Command, path: string[] = []): CommandNode {
  const help = command.createHelp();
  const options = help.visibleOptions(command).map(optionNode);
  return {
    path,
    description: command.description(),
    args: command.registeredArguments
      .map((a) => (a.required ? `<${a.name()}${a.variadic ? '...' : ''}>` : `[${a.name()}${a.variadic ? '...' : ''}]`))
      .join(' '),
    options,
    commands: help
      .visibleCommands(command)
      .filter((c) => c.name() !== 'help')
      .map((c) => commandTree(c, [...path, c.name()])),
  };
}

/** Every node, the program first, depth first in the order --help lists them. */
export function allCommands(root: CommandNode): CommandNode[] {
  return [root, ...root.commands.flatMap(allCommands)];
}
