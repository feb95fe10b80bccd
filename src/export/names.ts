// Names of everything patchloop creates in a cluster, derived from one prefix so several
// installations (or test runs) can share a cluster without touching each other.

export const DEFAULT_PREFIX = 'patchloop';

export interface ExportNames {
  prefix: string;
  /** State index: one document per open or recently resolved finding. */
  findings: string;
  /** Data stream: vulnerability detected / resolved / reopened events. */
  vulnerabilityEvents: string;
  /** Data stream: patch runs. */
  patchEvents: string;
  /** Data stream: one summary per host per day. */
  hostSummaries: string;
  /** State index: one document per host (reporting or not, reboot pending, open counts). */
  hosts: string;
  /** Data stream: the audit log (who changed what; src/export/audit.ts). */
  audit: string;
  /** Component templates shared by the index templates. */
  components: {
    base: string;
    vulnerability: string;
    patch: string;
    summary: string;
    host: string;
    audit: string;
    stateSettings: string;
    eventSettings: string;
  };
  /** Index templates. */
  templates: {
    findings: string;
    vulnerabilityEvents: string;
    patchEvents: string;
    hostSummaries: string;
    hosts: string;
    audit: string;
  };
  /** Lifecycle (ILM/ISM) policy ids. */
  policies: { events: string; summaries: string; audit: string };
}

// Lowercase, no wildcard/comma/space/quote/slash, not starting with - _ + or .
const PREFIX = /^[a-z0-9][a-z0-9_.-]{0,63}$/;

export function exportNames(prefix: string = DEFAULT_PREFIX): ExportNames {
  if (!PREFIX.test(prefix)) {
    throw new Error(
      `index prefix "${prefix}" is not usable: use 1-64 characters a-z 0-9 _ . - starting with a letter or digit`,
    );
  }
  return {
    prefix,
    findings: `${prefix}-findings`,
    vulnerabilityEvents: `${prefix}-events-vulnerability`,
    patchEvents: `${prefix}-events-patch`,
    hostSummaries: `${prefix}-summary-host`,
    hosts: `${prefix}-hosts`,
    audit: `${prefix}-audit`,
    components: {
      base: `${prefix}-ecs-base`,
      vulnerability: `${prefix}-ecs-vulnerability`,
      patch: `${prefix}-ecs-patch`,
      summary: `${prefix}-ecs-summary`,
      host: `${prefix}-ecs-host`,
      audit: `${prefix}-ecs-audit`,
      stateSettings: `${prefix}-settings-state`,
      eventSettings: `${prefix}-settings-events`,
    },
    templates: {
      findings: `${prefix}-findings`,
      vulnerabilityEvents: `${prefix}-events-vulnerability`,
      patchEvents: `${prefix}-events-patch`,
      hostSummaries: `${prefix}-summary-host`,
      hosts: `${prefix}-hosts`,
      audit: `${prefix}-audit`,
    },
    policies: { events: `${prefix}-events`, summaries: `${prefix}-summaries`, audit: `${prefix}-audit` },
  };
}
