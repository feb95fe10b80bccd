// `patchloop agent …`: enrol with a server, report the inventory, send spooled reports,
// install the systemd units, show the agent's state.
import { Option, type Command } from 'commander';
import { PatchloopError } from '../../core/errors.ts';
import { EXIT } from '../exit.ts';
import { PATCHLOOP_VERSION } from '../../version.ts';
import { counted } from '../../core/plural.ts';
import { humanLogStream, LOG_FORMATS, logFormat, type LogFormat } from '../terminal/log.ts';

interface CommonOptions {
  config?: string;
  stateDir?: string;
  root?: string;
  kernel?: string;
  hostname?: string;
  logFormat?: LogFormat;
}

const CONFIG_HELP = 'configuration file (default: /etc/patchloop/agent.yaml when it exists)';

function common(cmd: Command): Command {
  return cmd
    .option('--config <file>', CONFIG_HELP)
    .option('--state-dir <dir>', 'state directory: credential, spool (default: <data-dir>/agent)')
    .addOption(
      new Option(
        '--log-format <format>',
        'human: a summary and plain warnings; json: log lines (default: human on a terminal, else json)',
      ).choices(LOG_FORMATS),
    );
}

async function context(opts: CommonOptions) {
  const { loadAgentConfig } = await import('../../agent/config.ts');
  const pino = (await import('pino')).default;
  const config = loadAgentConfig(opts.config, {
    state_dir: opts.stateDir,
    root: opts.root,
    kernel: opts.kernel,
    hostname: opts.hostname,
  });
  const format = logFormat(opts.logFormat);
  const log = pino(
    { level: process.env.PATCHLOOP_LOG_LEVEL ?? 'info', base: { service: 'patchloop-agent' } },
    format === 'human' ? humanLogStream() : pino.destination(2),
  );
  return { config, format, deps: { log, version: PATCHLOOP_VERSION } };
}

/** Exit status and the last word on what stays spooled; `summarised`: a summary said it already. */
function finish(outcome: { pending: number; rejected: number; message: string | null }, summarised = false): void {
  if (outcome.rejected > 0) {
    throw new PatchloopError(
      'PL_E_FAILED',
      `the server rejected ${counted(outcome.rejected, 'report')} (kept under the spool's rejected/ directory, with the reason)`,
    );
  }
  if (outcome.pending > 0) {
    if (!summarised)
      process.stderr.write(
        `patchloop: ${counted(outcome.pending, 'report')} kept in the spool, to be sent later: ${outcome.message ?? 'server unreachable'}\n`,
      );
    process.exitCode = EXIT.tempfail;
  }
}

export function register(program: Command): void {
  const agent = program
    .command('agent')
    .description('Report this host to a patchloop server: enrol, run, flush, install, status');

  common(agent.command('enroll'))
    .description('Enrol with a server using an enrolment token; stores the host credential (mode 0600)')
    .requiredOption('--server <url>', 'server URL, e.g. https://patchloop.example.org:8080')
    .requiredOption('--token <token>', 'enrolment token; "-" reads it from stdin (keeps it out of the process list)')
    .option('--hostname <name>', "host name to enrol as (default: the system's)")
    .option('--root <dir>', 'root filesystem (its etc/machine-id identifies the host)')
    .action(async (opts: CommonOptions & { server: string; token: string }) => {
      const { config, deps } = await context(opts);
      let token = opts.token;
      if (token === '-') {
        const chunks: Buffer[] = [];
        for await (const c of process.stdin) chunks.push(c as Buffer);
        token = Buffer.concat(chunks).toString('utf8').trim();
      }
      const { enroll } = await import('../../agent/agent.ts');
      const cred = await enroll(config, { server: opts.server, token, hostname: opts.hostname }, deps);
      process.stdout.write(`enrolled with ${cred.server} as host ${cred.host_id}; credential in ${cred.file}\n`);
    });

  common(agent.command('run'))
    .description('Collect the inventory, spool it and send it (a delta on the last acknowledged one)')
    .option('--root <dir>', 'root filesystem to inventory (default /)')
    .option('--kernel <release>', 'running kernel release to report for another root')
    .option('--hostname <name>', 'host name to report')
    .addHelpText(
      'after',
      `
Exit status: 0 sent; 75 the server was unreachable and the report stays spooled (sent by a
later run or \`agent flush\`, with exponential backoff); 1 the server refused the report or
the credential; 2 usage or configuration error.`,
    )
    .action(async (opts: CommonOptions) => {
      const { config, format, deps } = await context(opts);
      const { runOnce } = await import('../../agent/agent.ts');
      const outcome = await runOnce(config, deps);
      if (format === 'human') {
        const { renderRunSummary } = await import('../../agent/summary.ts');
        const { nextTimerRun } = await import('../../agent/next-run.ts');
        process.stdout.write(renderRunSummary(outcome, { server: outcome.server, nextRun: nextTimerRun() }));
      }
      finish(outcome, format === 'human');
    });

  common(agent.command('flush'))
    .description('Send spooled reports (honours the backoff unless --now)')
    .option('--now', 'ignore the backoff and try now')
    .action(async (opts: CommonOptions & { now?: boolean }) => {
      const { config, format, deps } = await context(opts);
      const { flushSpool } = await import('../../agent/agent.ts');
      const outcome = await flushSpool(config, deps, opts.now === true);
      if (format === 'human' && outcome.pending === 0)
        process.stdout.write(`Sent ${counted(outcome.sent, 'spooled report')}; the spool is empty.\n`);
      finish(outcome);
    });

  common(agent.command('status'))
    .description('Show enrolment, spooled reports and the last acknowledged report (JSON)')
    .action(async (opts: CommonOptions) => {
      const { config, deps } = await context(opts);
      const { agentStatus } = await import('../../agent/agent.ts');
      process.stdout.write(`${JSON.stringify(agentStatus(config, deps), null, 2)}\n`);
    });

  agent
    .command('install')
    .description('Write and enable the systemd units: a daily run (randomised delay) and an hourly spool flush')
    .option('--config <file>', 'configuration file the units use', '/etc/patchloop/agent.yaml')
    .option('--state-dir <dir>', 'state directory (default: from the configuration)')
    .option('--unit-dir <dir>', 'where to write the units', '/etc/systemd/system')
    .option('--bin <path>', "patchloop command the units run (default: this installation's bin/patchloop)")
    .option('--server <url>', 'server URL to put in a new configuration file')
    .option('--no-enable', 'only write the files (no systemctl)')
    .action(
      async (opts: {
        config: string;
        stateDir?: string;
        unitDir: string;
        bin?: string;
        server?: string;
        enable: boolean;
      }) => {
        const { loadAgentConfig } = await import('../../agent/config.ts');
        const { existsSync } = await import('node:fs');
        const config = loadAgentConfig(existsSync(opts.config) ? opts.config : undefined, { state_dir: opts.stateDir });
        const { installAgent } = await import('../../agent/install.ts');
        const r = installAgent({
          unitDir: opts.unitDir,
          config: opts.config,
          stateDir: config.state_dir,
          dataDir: config.data_dir,
          bin: opts.bin,
          server: opts.server,
          enable: opts.enable,
        });
        for (const f of r.written) process.stdout.write(`wrote ${f}\n`);
        if (r.config.created) process.stdout.write(`wrote ${r.config.file} (defaults, documented)\n`);
        process.stdout.write(
          r.enabled ? 'enabled patchloop-agent.timer and patchloop-agent-flush.timer\n' : 'not enabled (--no-enable)\n',
        );
      },
    );
}
