// The patch policy model, pure (no I/O: the server and the agent both call it with their own
// clock): the document (schema.ts), maintenance windows in their own time zone (windows.ts),
// ring gates (rings.ts), reboot leases (leases.ts) and the per-host outlook (outlook.ts).
export * from './schema.ts';
export * from './glob.ts';
export {
  activeWindow,
  describeInstant,
  describeInterval,
  insideWindow,
  nextWindow,
  zonedTime,
  zonedToInstant,
  type WindowInterval,
  type ZonedTime,
} from './windows.ts';
export * from './rings.ts';
export * from './leases.ts';
export * from './outlook.ts';
