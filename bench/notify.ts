// Notifications over a fleet's history: a copy of the store of a fleet built through the real API
// (test/support/dashboard-fleet.ts: 200 hosts, 30 days of weekly reports, feed refreshes and patch runs;
// cached in .cache/bench/notify-fleet, rebuilt with --fresh), with the worker's cursors taken
// back to the start so one round reads the whole event log. Rules: every new finding; critical
// and high in one group; failed patch runs; SLA breaches; stale hosts — all to a webhook on
// loopback. Figures: the first round (reading the history, queueing, composing), a round with
// nothing new (the cost of every interval: state sources, due messages), and sending the
// messages to the receiver.
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { systemClock } from '../src/server/clock.ts';
import { resolveConfig } from '../src/server/config.ts';
import type { RuleFilter, Trigger } from '../src/server/api/notification-schemas.ts';
import { createRule } from '../src/server/notify/rules.ts';
import { NotifyService } from '../src/server/notify/service.ts';
import { NotifyState } from '../src/server/notify/tables.ts';
import { Store } from '../src/server/store/store.ts';
import { secretFile, startHttpReceiver } from '../test/support/notify-receivers.ts';
import { cachedFleet } from './lib/cached-fleet.ts';
import type { BenchContext, BenchRow, BenchSection } from './lib/context.ts';

const HOSTS = 200;

export const section: BenchSection = {
  async run(ctx: BenchContext): Promise<BenchRow[]> {
    const fleet = await cachedFleet(ctx, 'notify-fleet', {
      hosts: HOSTS,
      days: 30,
      cves: 600,
      reportEvery: 7,
      feedUpdates: 3,
    });
    const work = mkdtempSync(join(tmpdir(), 'patchloop-bench-notify-'));
    const file = join(work, 'server.sqlite');
    copyFileSync(join(fleet.dataDir, 'server.sqlite'), file);
    const receiver = await startHttpReceiver();
    const config = resolveConfig({
      data_dir: work,
      notifications: {
        channels: [
          {
            name: 'hook',
            type: 'webhook',
            url_file: secretFile(work, 'url', `${receiver.url}/hook`),
            secret_file: secretFile(work, 'secret', 'bench key'),
          },
        ],
      },
    });
    const store = Store.open(file, systemClock, { slaDays: config.sla_days, staleAfterMs: config.stale_after });
    try {
      const notify = new NotifyService({
        store,
        config: config.notifications,
        clock: systemClock,
        log: pino({ level: 'silent' }),
      });
      // From the start of the history.
      const state = new NotifyState(store);
      const first = store.get<{ at: number }>('SELECT min(at) AS at FROM events')!.at;
      state.set('events', 0);
      state.set('refreshes', 0);
      state.set('patch_runs', '0.0');
      state.set('sla', first);
      const channels = new Set(['hook']);
      const group = store.get<{ grp: string }>(
        "SELECT grp FROM hosts WHERE grp != '' GROUP BY grp ORDER BY count(*) DESC",
      )!;
      const rules: [string, Trigger, RuleFilter][] = [
        ['all new findings', 'new_finding', {}],
        ['critical and high', 'new_finding', { severities: ['critical', 'high'], groups: [group.grp] }],
        ['failed runs', 'patch_run_failed', {}],
        ['sla', 'sla_breach', {}],
        ['stale', 'host_stale', {}],
      ];
      for (const [name, trigger, filter] of rules) {
        createRule(
          store,
          {
            name,
            trigger,
            filter: { ...filter },
            channels: ['hook'],
            throttle_seconds: 0,
            digest: false,
            enabled: true,
          },
          channels,
          'bench',
        );
      }
      const events = store.get<{ n: number }>(
        "SELECT coalesce(sum(count), 0) AS n FROM events WHERE type IN ('detected', 'reopened')",
      )!.n;

      // The first round without sending: reading the history, queueing, composing.
      receiver.hold = false;
      let t = performance.now();
      const round = await notify.round();
      const firstMs = performance.now() - t;
      t = performance.now();
      const sent = await notify.runOnce();
      const sendMs = performance.now() - t;
      // Sending alone: 500 messages queued at once on one channel (each its own POST, in order).
      const BURST = 500;
      for (let i = 0; i < BURST; i++) notify.sendToChannels({ channels: ['hook'], title: `bench ${i}`, text: 'bench' });
      t = performance.now();
      const burst = await notify.runOnce();
      const burstMs = performance.now() - t;
      const quiet: number[] = [];
      for (let i = 0; i < 5; i++) {
        t = performance.now();
        await notify.runOnce();
        quiet.push(performance.now() - t);
      }
      quiet.sort((a, b) => a - b);
      await notify.stop();
      ctx.log(
        `data: ${HOSTS} hosts, 30 days; ${events} finding events in the log; ` +
          `queued ${round.queued} (rule, channel, event) rows into ${round.messages} messages; sent ${sent.sent}; ` +
          `receiver got ${receiver.received.length}`,
      );
      ctx.log('command: npm run bench -- notify   (fleet cached in .cache/bench/notify-fleet; --fresh rebuilds it)');
      const perSecond = Math.round(events / (firstMs / 1000));
      return [
        {
          what: `first round over the history (${events} events, 5 rules)`,
          figure: `${(firstMs / 1000).toFixed(2)} s`,
          target: '≤ 30 s',
          ok: firstMs <= 30_000,
        },
        {
          what: 'finding events read and matched per second',
          figure: `${perSecond}/s`,
          target: '≥ 5000/s',
          ok: perSecond >= 5000,
        },
        {
          what: `round with nothing new (median of 5; ${HOSTS} hosts)`,
          figure: `${quiet[2].toFixed(0)} ms`,
          target: '≤ 250 ms',
          ok: quiet[2] <= 250,
        },
        {
          what: `first round's messages sent to a loopback webhook`,
          figure: `${sent.sent} in ${sendMs.toFixed(0)} ms`,
          target: '-',
          ok: sent.sent === round.messages,
        },
        {
          what: `${BURST} messages queued at once, sent to a loopback webhook`,
          figure: `${Math.round(burst.sent / (burstMs / 1000))}/s`,
          target: '≥ 100/s',
          ok: burst.sent === BURST && burst.sent / (burstMs / 1000) >= 100,
        },
      ];
    } finally {
      store.close();
      await receiver.close();
      rmSync(work, { recursive: true, force: true });
    }
  },
};
