// The agent↔server wire format of patching: the policy an agent pulls, the reboot-lease
// requests and the acknowledgements of patch-run and boot reports. Shared by the server's
// routes and the agent's clients, so both sides validate the same shapes.
import { z } from 'zod';
import { clientId } from './bounds.ts';

export const GateSchema = z.union([
  z.object({ state: z.literal('open'), reasons: z.array(z.string()) }),
  z.object({ state: z.literal('waiting'), until: z.string(), reasons: z.array(z.string()) }),
  z.object({ state: z.literal('blocked'), reasons: z.array(z.string()) }),
]);

/**
 * GET /api/v1/agent/policy. `policy` is the validated policy document (core/policy/schema.ts
 * PolicySchema output) or null when no policy governs the host's group; the agent validates it
 * again with parsePolicy before use. `gate` is computed by the server from the other rings'
 * patch-run history; the agent patches only when it is open.
 */
export const AgentPolicyResponseSchema = z.object({
  policy: z.record(z.string(), z.unknown()).nullable(),
  host: z.object({ id: z.number().int(), hostname: z.string(), group: z.string(), tags: z.array(z.string()) }),
  ring: z.object({ name: z.string(), index: z.number().int() }).nullable(),
  gate: GateSchema.nullable(),
  /** Why: "what will happen tonight" as sentences. */
  lines: z.array(z.string()),
  server_time: z.string(),
});
export type AgentPolicyResponse = z.infer<typeof AgentPolicyResponseSchema>;

/** POST /api/v1/agent/reboot-lease: acquire, renew or release one slot of the group's semaphore. */
export const LeaseRequestSchema = z.discriminatedUnion('action', [
  z.strictObject({
    action: z.literal('acquire'),
    run_id: clientId,
    ttl_seconds: z.number().int().min(60).max(86_400).optional(),
  }),
  z.strictObject({ action: z.literal('renew'), lease_id: clientId }),
  z.strictObject({ action: z.literal('release'), lease_id: clientId }),
]);
export type LeaseRequest = z.infer<typeof LeaseRequestSchema>;

export const LeaseResponseSchema = z.union([
  z.object({ granted: z.literal(true), lease_id: z.string(), expires_at: z.string(), renewed: z.boolean() }),
  z.object({ granted: z.literal(false), retry_at: z.string(), reason: z.string() }),
  z.object({ released: z.boolean(), lease_id: z.string() }),
]);
export type LeaseResponse = z.infer<typeof LeaseResponseSchema>;

/**
 * POST /api/v1/agent/patch-runs: `created` the first time, `updated` for a newer state of the same run (its reboot),
 * `duplicate` when identical.
 */
export const PatchRunAckSchema = z.object({
  id: z.string(),
  status: z.enum(['created', 'updated', 'duplicate']),
  received_at: z.string(),
});
export type PatchRunAck = z.infer<typeof PatchRunAckSchema>;

export const BootAckSchema = z.object({ run_id: z.string(), lease_released: z.boolean(), received_at: z.string() });
