// `patchloop server`: the central server, and the admin tasks that work on its store directly
// (enrolment tokens, the admin password) so a fresh installation needs no dashboard.
import type { Command } from 'commander';
import { PatchloopError } from '../../core/errors.ts';
import { registerNotifyCommands } from './notify.ts';
import { counted } from '../../core/plural.ts';

interface ConfigOptions {
  config?: string;
  dataDir?: string;
}

interface RunOptions extends ConfigOptions {
  listen?: string;
  tlsCert?: string;
  tlsKey?: string;
  logLevel?: string;
}

const CONFIG_HELP = 'configuration file (default: /etc/patchloop/server.yaml when it exists)';
const DATA_DIR_HELP =
  'data directory (default: $PATCHLOOP_HOME, else /var/lib/patchloop as root, else ~/.local/share/patchloop)';

export function register(program: Command): void {
  const server = program
    .command('server')
    .description('Run the central server (HTTP API, store, feed refresh, fleet matching) and its admin tasks');

  server
    .command('run', { isDefault: true })
    .description('Run the server (the default)')
    .option('--config <file>', CONFIG_HELP)
    .option('--listen <host:port>', 'address to listen on (default 127.0.0.1:8080)')
    .option('--data-dir <dir>', DATA_DIR_HELP)
    .option('--tls-cert <file>', 'TLS certificate (PEM); with --tls-key the server speaks HTTPS')
    .option('--tls-key <file>', 'TLS private key (PEM)')
    .option('--log-level <level>', 'fatal, error, warn, info, debug or trace')
    .addHelpText(
      'after',
      `
The first start creates the admin account and prints its password once on stderr. Logs are
JSON lines (pino) on stdout. SIGINT/SIGTERM stop the server cleanly.
Exit status: 0 stopped by SIGINT/SIGTERM; 1 cannot start (address in use, a TLS file missing
or not a pair, the data directory in use by another server: nothing is written then); 2 a
configuration error (the message names the file and line).`,
    )
    .action(async (opts: RunOptions) => {
      const config = await loadServerConfig(opts);
      const { startServer } = await import('../../server/server.ts');
      // The handlers are in place before the server starts: a stop asked for while it starts
      // (it may already have said it listens) waits for the start, then closes cleanly.
      let stopAsked!: () => void;
      const stopped = new Promise<void>((resolve) => (stopAsked = resolve));
      const stop = (): void => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        stopAsked();
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
      let running;
      try {
        running = await startServer(config);
      } catch (err) {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        throw err;
      }
      await stopped;
      await running.close();
    });

  server
    .command('enrollment-token')
    .description('Create an enrolment token for agents (`patchloop agent enroll --token …`); prints it once')
    .option('--config <file>', CONFIG_HELP)
    .option('--data-dir <dir>', DATA_DIR_HELP)
    .option('--name <name>', 'what it is for', 'cli')
    .option('--uses <n>', 'how many hosts may enrol with it (default 1)')
    .option('--unlimited', 'any number of hosts until it expires')
    .option('--ttl <duration>', 'lifetime, e.g. 30m, 24h, 7d; "none" with a use limit', '24h')
    .option('--group <group>', 'group the hosts join', '')
    .option('--tag <tag...>', 'tags the hosts get')
    .action(
      async (
        opts: ConfigOptions & {
          name: string;
          uses?: string;
          unlimited?: boolean;
          ttl: string;
          group: string;
          tag?: string[];
        },
      ) => {
        const config = await loadServerConfig(opts);
        const { parseDuration } = await import('../../core/duration.ts');
        const uses = opts.unlimited ? null : opts.uses === undefined ? 1 : Number(opts.uses);
        if (uses !== null && (!Number.isInteger(uses) || uses < 1))
          throw new PatchloopError('PL_E_USAGE', `--uses must be a whole number of at least 1 (got ${opts.uses})`);
        let ttlMs: number | null;
        try {
          ttlMs = opts.ttl === 'none' ? null : parseDuration(opts.ttl);
        } catch (err) {
          throw new PatchloopError('PL_E_USAGE', `--ttl: ${(err as Error).message}`);
        }
        if (uses === null && ttlMs === null)
          throw new PatchloopError('PL_E_USAGE', 'an unlimited token needs a lifetime (--ttl)');
        const { createEnrollmentToken } = await import('../../server/store/credentials.ts');
        const store = await openExistingStore(config);
        try {
          const t = createEnrollmentToken(store, {
            name: opts.name,
            uses,
            ttlMs,
            grp: opts.group,
            tags: opts.tag ?? [],
          });
          process.stdout.write(`${t.token}\n`);
          process.stderr.write(
            `enrolment token ${t.id}: ${uses === null ? 'any number of hosts' : counted(uses, 'host')}, ${t.expires_at ? `valid until ${t.expires_at}` : 'no expiry'}\n`,
          );
        } finally {
          store.close();
        }
      },
    );

  server
    .command('set-admin-password')
    .description('Set the admin password (read from stdin) and end existing sessions')
    .option('--config <file>', CONFIG_HELP)
    .option('--data-dir <dir>', DATA_DIR_HELP)
    .action(async (opts: ConfigOptions) => {
      const config = await loadServerConfig(opts);
      const password = await readSecret();
      const { setAdminPassword } = await import('../../server/store/credentials.ts');
      const store = await openExistingStore(config);
      try {
        await setAdminPassword(store, config.admin.username, password);
        const { cliAudit } = await import('../../server/store/audit-cli.ts');
        const { recordAudit } = await import('../../server/store/audit.ts');
        recordAudit(store, {
          actor: cliAudit(store).actor,
          action: 'user.password_reset',
          target: { type: 'user', id: config.admin.username },
          outcome: 'success',
          reason: 'set-admin-password',
        });
        process.stderr.write(`password of "${config.admin.username}" set\n`);
      } finally {
        store.close();
      }
    });

  registerUserCommands(server);
  registerNotifyCommands(server, CONFIG_HELP);

  server
    .command('unlock-logins')
    .description(
      'Lift every login brake of the server on this data directory (a running server sees it at the next attempt)',
    )
    .option('--config <file>', CONFIG_HELP)
    .option('--data-dir <dir>', DATA_DIR_HELP)
    .action(async (opts: ConfigOptions) => {
      const config = await loadServerConfig(opts);
      const { unlockLogins } = await import('../../server/http/login-brake.ts');
      const store = await openExistingStore(config);
      try {
        unlockLogins(store);
        process.stderr.write('login brakes lifted: failed logins so far no longer delay anyone\n');
      } finally {
        store.close();
      }
    });

  server
    .command('publish')
    .description('Add patchloop packages (.deb, .rpm, .apk) to the repositories this server publishes under /repo/')
    .argument('<file...>', 'package files (npm run package writes them to dist/)')
    .option('--config <file>', CONFIG_HELP)
    .option('--data-dir <dir>', DATA_DIR_HELP)
    .addHelpText(
      'after',
      `
The files go to repo.packages_dir (default: dist/ of this installation when it holds packages,
else packages/ in the data directory). A running server rebuilds and signs the metadata at the
next request; hosts get the new version with their next update (unattended-upgrades,
dnf-automatic). Only patchloop packages for x86-64 and arm64 are accepted; a file that is not
one is refused and nothing is copied.`,
    )
    .action(async (files: string[], opts: ConfigOptions) => {
      const config = await loadServerConfig(opts);
      const { publishPackages, publishedLine } = await import('../../server/repo/publish.ts');
      for (const p of await publishPackages(files, config.repo.packages_dir))
        process.stdout.write(`${publishedLine(p)}\n`);
    });

  server
    .command('hash-password')
    .description('Print the scrypt hash of a password read from stdin, for admin.password_hash in the config')
    .action(async () => {
      const { hashPassword } = await import('../../server/store/credentials.ts');
      process.stdout.write(`${await hashPassword(await readSecret())}\n`);
    });
}

/**
 * `patchloop server user …`: accounts on the store of this data directory (for the first
 * accounts, or when nobody can log in). Each change is written to the audit log as done on the
 * command line by the system user who ran it.
 */
function registerUserCommands(server: Command): void {
  const user = server
    .command('user')
    .description("Manage people's accounts (local accounts, roles, disabling) on the store of this data directory");
  const withStore = async <T>(
    opts: ConfigOptions,
    fn: (
      store: import('../../server/store/store.ts').Store,
      cli: import('../../server/store/audit-cli.ts').CliAudit,
    ) => Promise<T>,
  ): Promise<T> => {
    const config = await loadServerConfig(opts);
    const { cliAudit } = await import('../../server/store/audit-cli.ts');
    const store = await openExistingStore(config);
    try {
      return await fn(store, cliAudit(store));
    } finally {
      store.close();
    }
  };
  const role = (r: string): 'viewer' | 'operator' | 'admin' => {
    if (r !== 'viewer' && r !== 'operator' && r !== 'admin')
      throw new PatchloopError('PL_E_USAGE', `unknown role ${JSON.stringify(r)} (viewer, operator or admin)`);
    return r;
  };
  const common = (c: Command): Command =>
    c.option('--config <file>', CONFIG_HELP).option('--data-dir <dir>', DATA_DIR_HELP);

  common(
    user
      .command('add')
      .description('Create a local account; its password is read from stdin')
      .argument('<username>')
      .requiredOption('--role <role>', 'viewer, operator or admin'),
  )
    .option('--name <display name>', 'the name shown for it')
    .action(async (username: string, opts: ConfigOptions & { role: string; name?: string }) => {
      const r = role(opts.role);
      const password = await readSecret();
      await withStore(opts, async (store, cli) => {
        const { createLocalUser } = await import('../../server/store/users.ts');
        const u = await cli.change('user.create', username, async () =>
          createLocalUser(store, { username, role: r, password, display_name: opts.name ?? null }, cli.actor.name),
        );
        process.stderr.write(`account ${u.username} created with the ${u.role} role\n`);
      });
    });

  common(user.command('list').description('List the accounts: name, role, kind, state, last login'))
    .option('--json', 'JSON instead of a table')
    .action(async (opts: ConfigOptions & { json?: boolean }) => {
      await withStore(opts, async (store) => {
        const { listUsers } = await import('../../server/store/users.ts');
        const users = listUsers(store);
        if (opts.json) {
          process.stdout.write(
            `${JSON.stringify(
              users.map((u) => ({ ...u, disabled: u.disabled_at !== null })),
              null,
              2,
            )}\n`,
          );
          return;
        }
        const rows = [
          ['USERNAME', 'ROLE', 'KIND', 'STATE', 'LAST LOGIN'],
          ...users.map((u) => [
            u.username,
            u.role,
            u.kind,
            u.disabled_at === null ? 'enabled' : 'disabled',
            u.last_login_at === null ? '-' : new Date(u.last_login_at).toISOString(),
          ]),
        ];
        const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
        for (const r of rows)
          process.stdout.write(
            `${r
              .map((c, i) => c.padEnd(widths[i]))
              .join('  ')
              .trimEnd()}\n`,
          );
      });
    });

  common(
    user
      .command('set-role')
      .description(
        "Change an account's role (a single sign-on account gets its role from the provider again at its next login)",
      )
      .argument('<username>')
      .argument('<role>', 'viewer, operator or admin'),
  ).action(async (username: string, newRole: string, opts: ConfigOptions) => {
    const r = role(newRole);
    await withStore(opts, async (store, cli) => {
      const { updateUser } = await import('../../server/store/users.ts');
      const u = await cli.change('user.update', username, async (id) => updateUser(store, id, { role: r }));
      process.stderr.write(`${u.username} now has the ${u.role} role\n`);
    });
  });

  for (const [name, disabled] of [
    ['disable', true],
    ['enable', false],
  ] as const) {
    common(
      user
        .command(name)
        .description(
          disabled
            ? 'Disable an account: its sessions end, its API tokens stop working'
            : 'Enable a disabled account again',
        )
        .argument('<username>'),
    ).action(async (username: string, opts: ConfigOptions) => {
      await withStore(opts, async (store, cli) => {
        const { setUserDisabled } = await import('../../server/store/users.ts');
        const u = await cli.change('user.update', username, async (id) => setUserDisabled(store, id, disabled));
        process.stderr.write(`${u.username} ${disabled ? 'disabled' : 'enabled'}\n`);
      });
    });
  }

  common(
    user
      .command('passwd')
      .description("Set a local account's password (read from stdin) and end its sessions")
      .argument('<username>'),
  ).action(async (username: string, opts: ConfigOptions) => {
    const password = await readSecret();
    await withStore(opts, async (store, cli) => {
      const { setUserPassword } = await import('../../server/store/users.ts');
      const u = await cli.change('user.password_reset', username, async (id) => setUserPassword(store, id, password));
      process.stderr.write(`password of ${u.username} set\n`);
    });
  });
}

async function readSecret(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  const password = Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
  if (password.length < 12)
    throw new PatchloopError('PL_E_USAGE', 'the password must have at least 12 characters (give it on stdin)');
  return password;
}

async function loadServerConfig(opts: RunOptions): Promise<import('../../server/config.ts').ServerConfig> {
  const { readConfig, withOverrides } = await import('../../config/load.ts');
  const { DEFAULT_CONFIG_FILE, resolveConfig } = await import('../../server/config.ts');
  let listen;
  if (opts.listen) {
    const m = /^(.*):(\d+)$/.exec(opts.listen);
    if (!m) throw new PatchloopError('PL_E_USAGE', `--listen: expected HOST:PORT, got ${JSON.stringify(opts.listen)}`);
    listen = { host: m[1].replace(/^\[(.*)\]$/, '$1'), port: Number(m[2]) };
  }
  if (!opts.tlsCert !== !opts.tlsKey) throw new PatchloopError('PL_E_USAGE', '--tls-cert and --tls-key go together');
  const tls = opts.tlsCert && opts.tlsKey ? { cert: opts.tlsCert, key: opts.tlsKey } : undefined;
  const source = readConfig(opts.config, DEFAULT_CONFIG_FILE);
  return resolveConfig(withOverrides(source, { data_dir: opts.dataDir, log_level: opts.logLevel, listen, tls }));
}

/**
 * Opens the store of an existing server for an admin task. A data directory without one is
 * refused: a mistyped --data-dir must not create an empty store that no server uses.
 */
async function openExistingStore(
  config: import('../../server/config.ts').ServerConfig,
): Promise<import('../../server/store/store.ts').Store> {
  const { existsSync, statSync } = await import('node:fs');
  if (!existsSync(config.store.file) || !statSync(config.store.file).isFile()) {
    throw new PatchloopError(
      'PL_E_USAGE',
      `no server store at ${config.store.file}: is the data directory (${config.data_dir}) right? ` +
        "Give the server's --config or --data-dir; a new server creates its store on its first `patchloop server run`.",
    );
  }
  const { Store } = await import('../../server/store/store.ts');
  const { systemClock } = await import('../../server/clock.ts');
  return Store.open(config.store.file, systemClock);
}
