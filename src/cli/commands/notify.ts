// `patchloop server notify test CHANNEL`: a test message straight from the server's
// configuration (the channel's secrets read as the server reads them), without a running
// server or its store: for setting up a channel.
import type { Command } from 'commander';
import { PatchloopError } from '../../core/errors.ts';

interface NotifyTestOptions {
  config?: string;
}

export function registerNotifyCommands(server: Command, configHelp: string): void {
  const notify = server.command('notify').description('Notification channels (server.yaml notifications:)');
  notify
    .command('test')
    .description('Send a test message to a channel of the configuration, now')
    .argument('<channel>', 'the channel name (notifications.channels[].name)')
    .option('--config <file>', configHelp)
    .addHelpText(
      'after',
      '\nExit status: 0 the channel took the message; 1 it did not (the reason is printed); 2 no such channel or a configuration error.',
    )
    .action(async (channel: string, opts: NotifyTestOptions) => {
      const { readConfig } = await import('../../config/load.ts');
      const { DEFAULT_CONFIG_FILE, resolveConfig } = await import('../../server/config.ts');
      const { createChannel } = await import('../../server/notify/channels/index.ts');
      const { plainMessage, testMessageText } = await import('../../server/notify/compose.ts');
      const { randomUUID } = await import('node:crypto');
      const { userInfo } = await import('node:os');
      const config = resolveConfig(readConfig(opts.config, DEFAULT_CONFIG_FILE)).notifications;
      const c = config.channels.find((x) => x.name === channel);
      if (!c) {
        const known = config.channels.map((x) => x.name).join(', ') || 'none';
        throw new PatchloopError(
          'PL_E_CONFIG',
          `no channel ${channel} in notifications.channels (configured: ${known})`,
        );
      }
      const ch = createChannel(c);
      const text = testMessageText(channel, `${userInfo().username} (patchloop server notify test)`);
      try {
        await ch.send({
          payload: plainMessage('test', text, {
            deliveryId: randomUUID(),
            now: Date.now(),
            dashboardUrl: config.dashboard_url ?? null,
          }),
          html: null,
          attachments: [],
        });
      } catch (err) {
        throw new PatchloopError('PL_E_FAILED', `${channel}: not sent: ${(err as Error).message}`);
      } finally {
        ch.close();
      }
      process.stdout.write(`${channel}: test message sent (${ch.summary})\n`);
    });
}
