// The deb backend: unattended-upgrades, run by patchloop inside a window or by the
// distribution's apt-daily-upgrade.timer (then collected from its logs). See runner.ts.
import type { PatchBackend } from '../backend.ts';
import { collectUnattendedUpgrades, runUnattendedUpgrades } from './runner.ts';

export const aptBackend: PatchBackend = {
  name: 'unattended-upgrades',
  format: 'deb',
  run: runUnattendedUpgrades,
  collect: collectUnattendedUpgrades,
};
