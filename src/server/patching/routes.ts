// Patching routes. Admin: policies (validated, versioned), patch runs, rings, reboot leases,
// a host's policy view. Agent (host token): its policy with the ring gate, patch-run and boot
// reports, reboot leases. The server never tells an agent to do anything: it answers what the
// agent asks, and the agent's own configuration decides what it may run.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ringOf } from '../../core/policy/rings.ts';
import {
  AgentPolicyResponseSchema,
  BootAckSchema,
  LeaseRequestSchema,
  LeaseResponseSchema,
  PatchRunAckSchema,
} from '../../core/patch-protocol.ts';
import { BootReportSchema, PatchRunSchema } from '../../patch/types.ts';
import { ErrorSchema, IdParams, pageOf, wholeNumber } from '../api/schemas.ts';
import type { ServerContext } from '../context.ts';
import { auditChange } from '../http/audit.ts';
import { actorName, type Principal } from '../http/auth.ts';
import { HttpError } from '../http/errors.ts';
import { acquireLease, listLeases, releaseLease, renewLease } from './leases.ts';
import {
  latestPolicy,
  listPolicies,
  policyForGroup,
  policyVersion,
  policyVersions,
  putPolicy,
  rollbackPolicy,
} from './policies.ts';
import { previewPolicyText } from './policy-preview.ts';
import { hostPolicyView, listRuns, policyView, ringViews, runById, runSummary } from './queries.ts';
import { gateFor, groupRings, hostInfo, type HostInfo } from './rings.ts';
import { recordBoot, recordRun } from './runs.ts';
import {
  HostPolicyViewSchema,
  LeaseViewSchema,
  PatchRunItemSchema,
  PatchRunsQuerySchema,
  PatchRunSummarySchema,
  PolicyListItemSchema,
  PolicyNameParams,
  PolicyPreviewSchema,
  PolicyRollbackSchema,
  PolicyTextSchema,
  RingViewSchema,
  StoredPolicySchema,
} from './schemas.ts';
import { ensurePatchingTables } from './tables.ts';

export const patchingRoutes =
  (ctx: ServerContext): FastifyPluginAsyncZod =>
  async (app) => {
    const { store } = ctx;
    ensurePatchingTables(store);

    const callingHost = (p: Principal | null): HostInfo => {
      if (p?.kind !== 'host') throw new HttpError('PL_E_FORBIDDEN', 'not allowed with these credentials');
      const h = hostInfo(store, p.hostId);
      if (!h) throw new HttpError('PL_E_FORBIDDEN', 'this host no longer exists on the server');
      return h;
    };

    // ---- policies (admin)
    app.put(
      '/api/v1/policies/:name',
      {
        config: { access: 'operator', audit: 'policy.put' },
        schema: {
          summary:
            'Create or change a policy: validated, stored as its next version (an identical document is not a new version)',
          description:
            'The body is a policy document (patchloop.policy/v1, see docs/patching.md). `version` may be left out; when given it must be the next version. ' +
            'A group has one policy. 400 lists every invalid field in details.',
          tags: ['patching'],
          params: PolicyNameParams,
          body: z.unknown(),
          response: { 200: StoredPolicySchema, 201: StoredPolicySchema, 400: ErrorSchema, 409: ErrorSchema },
        },
      },
      async (request, reply) => {
        const before = latestPolicy(store, request.params.name);
        auditChange(request, {
          target: { type: 'policy', id: request.params.name },
          before: before && { version: before.version, policy: before.policy },
        });
        const r = putPolicy(store, request.params.name, request.body, actorName(request.principal));
        auditChange(request, {
          after: { version: r.stored.version, policy: r.stored.policy },
          reason: r.status === 'unchanged' ? 'identical to the version in force' : undefined,
        });
        request.log.info({ policy: r.stored.name, version: r.stored.version, status: r.status }, 'policy stored');
        return reply.code(r.status === 'created' ? 201 : 200).send(r.stored);
      },
    );
    app.get(
      '/api/v1/policies',
      {
        config: { access: 'viewer' },
        schema: {
          summary: 'Policies in force (newest version of each)',
          tags: ['patching'],
          response: { 200: z.array(PolicyListItemSchema) },
        },
      },
      async () => listPolicies(store),
    );
    app.get(
      '/api/v1/policies/:name',
      {
        config: { access: 'viewer' },
        schema: {
          summary: 'One policy: the newest version, or ?version=N',
          tags: ['patching'],
          params: PolicyNameParams,
          querystring: z.object({ version: wholeNumber(1, 1_000_000_000).optional() }),
          response: { 200: StoredPolicySchema, 404: ErrorSchema },
        },
      },
      async (request) => {
        const p = request.query.version
          ? policyVersion(store, request.params.name, request.query.version)
          : latestPolicy(store, request.params.name);
        if (!p)
          throw new HttpError(
            'PL_E_NOT_FOUND',
            `no policy ${request.params.name}${request.query.version ? ` version ${request.query.version}` : ''}`,
          );
        return p;
      },
    );
    app.get(
      '/api/v1/policies/:name/versions',
      {
        config: { access: 'viewer' },
        schema: {
          summary: 'Every version of a policy, newest first',
          tags: ['patching'],
          params: PolicyNameParams,
          response: { 200: z.array(StoredPolicySchema), 404: ErrorSchema },
        },
      },
      async (request) => {
        const list = policyVersions(store, request.params.name);
        if (list.length === 0) throw new HttpError('PL_E_NOT_FOUND', `no policy ${request.params.name}`);
        return list;
      },
    );

    app.post(
      '/api/v1/policies/:name/preview',
      {
        // Nothing is stored; the audit records who looked at which draft's effect.
        config: { access: 'operator', audit: false },
        schema: {
          summary: 'Check a policy typed as YAML (every problem at its line) and preview it for the hosts of its group',
          description:
            'The text may leave out name and version. For each host of the group: ring, window, ring gate and whether it patches in the next 24 hours under the draft, beside what the policy in force would do. Nothing is stored.',
          tags: ['patching'],
          params: PolicyNameParams,
          body: PolicyTextSchema,
          response: { 200: PolicyPreviewSchema, 400: ErrorSchema },
        },
      },
      async (request) => {
        auditChange(request, { target: { type: 'policy', id: request.params.name } });
        return previewPolicyText(store, request.params.name, request.body.text);
      },
    );
    app.post(
      '/api/v1/policies/:name/rollback',
      {
        config: { access: 'operator', audit: 'policy.rollback' },
        schema: {
          summary: 'Bring back an earlier version of a policy as its next version',
          description:
            'The history is kept: version N+1 is made equal to the version named. 200 (unchanged) when that is the version in force already.',
          tags: ['patching'],
          params: PolicyNameParams,
          body: PolicyRollbackSchema,
          response: {
            200: StoredPolicySchema,
            201: StoredPolicySchema,
            400: ErrorSchema,
            404: ErrorSchema,
            409: ErrorSchema,
          },
        },
      },
      async (request, reply) => {
        const { name } = request.params;
        const before = latestPolicy(store, name);
        auditChange(request, {
          target: { type: 'policy', id: name },
          before: before && { version: before.version, policy: before.policy },
        });
        const r = rollbackPolicy(store, name, request.body.version, actorName(request.principal));
        if (!r) throw new HttpError('PL_E_NOT_FOUND', `no policy ${name} version ${request.body.version}`);
        auditChange(request, {
          after: { version: r.stored.version, policy: r.stored.policy },
          reason:
            r.status === 'unchanged'
              ? `version ${request.body.version} is the version in force`
              : `rollback to version ${request.body.version}`,
        });
        request.log.info(
          { policy: name, from: request.body.version, version: r.stored.version, status: r.status },
          'policy rolled back',
        );
        return reply.code(r.status === 'created' ? 201 : 200).send(r.stored);
      },
    );

    // ---- dashboard (admin)
    app.get(
      '/api/v1/patch-runs',
      {
        config: { access: 'viewer' },
        schema: {
          summary: 'Patch runs, newest first: filter by host id, group, outcome (comma-separated), since (ISO)',
          tags: ['patching'],
          querystring: PatchRunsQuerySchema,
          response: { 200: pageOf(PatchRunItemSchema) },
        },
      },
      async (request) => listRuns(store, request.query),
    );
    app.get(
      '/api/v1/patch-runs/summary',
      {
        config: { access: 'viewer' },
        schema: {
          summary: 'Patch runs of the last N days by outcome, hosts whose latest run failed, the latest run',
          tags: ['patching'],
          querystring: z.object({ days: wholeNumber(1, 365).default(7), group: z.string().max(200).optional() }),
          response: { 200: PatchRunSummarySchema },
        },
      },
      async (request) => runSummary(store, request.query.days, request.query.group),
    );
    app.get(
      '/api/v1/patch-runs/:id',
      {
        config: { access: 'viewer' },
        schema: {
          summary: 'One patch run: the summary and the full record as the agent reported it',
          tags: ['patching'],
          params: z.object({ id: z.string().min(1).max(200) }),
          response: { 200: PatchRunItemSchema.extend({ record: PatchRunSchema }), 404: ErrorSchema },
        },
      },
      async (request) => {
        const r = runById(store, request.params.id);
        if (!r) throw new HttpError('PL_E_NOT_FOUND', `no patch run ${request.params.id}`);
        return { ...r.item, record: r.run };
      },
    );
    app.get(
      '/api/v1/rings',
      {
        config: { access: 'viewer' },
        schema: {
          summary: 'Rings of every policy: hosts, how many patched or failed, and the ring gate now',
          tags: ['patching'],
          response: { 200: z.array(RingViewSchema) },
        },
      },
      async () => ringViews(store),
    );
    app.get(
      '/api/v1/reboot-leases',
      {
        config: { access: 'viewer' },
        schema: {
          summary: 'Reboot leases held now and hosts waiting for one',
          tags: ['patching'],
          querystring: z.object({ group: z.string().max(200).optional() }),
          response: { 200: z.array(LeaseViewSchema) },
        },
      },
      async (request) => listLeases(store, request.query.group),
    );
    app.get(
      '/api/v1/hosts/:id/policy',
      {
        config: { access: 'viewer' },
        schema: {
          summary: "A host's policy, ring, windows and ring gate: what will happen in the next 24 hours, and why",
          tags: ['patching'],
          params: IdParams,
          response: { 200: HostPolicyViewSchema, 404: ErrorSchema },
        },
      },
      async (request) => {
        const v = hostPolicyView(store, request.params.id);
        if (!v) throw new HttpError('PL_E_NOT_FOUND', `no host ${request.params.id}`);
        return v;
      },
    );

    // ---- agents (host token)
    app.get(
      '/api/v1/agent/policy',
      {
        config: { access: 'host' },
        schema: {
          summary: "The calling host's policy, its ring and the ring gate (from the other rings' patch runs)",
          description:
            "policy is null when no policy governs the host's group. The agent narrows the policy by its own configuration; the server cannot widen what an agent may do.",
          tags: ['agent'],
          response: { 200: AgentPolicyResponseSchema },
        },
      },
      async (request) => {
        const host = callingHost(request.principal);
        const stored = policyForGroup(store, host.group);
        const now = store.clock.now();
        const base = {
          host: { id: host.id, hostname: host.hostname, group: host.group, tags: host.tags },
          server_time: new Date(now).toISOString(),
        };
        if (!stored) return { ...base, policy: null, ring: null, gate: null, lines: policyView(store, host).lines };
        const ringIndex = ringOf(stored.policy, host);
        const rings = groupRings(store, stored.policy, now);
        const gate =
          ringIndex < 0
            ? { state: 'blocked' as const, reasons: ['not in any ring'] }
            : gateFor(stored.policy, rings, ringIndex, now);
        return {
          ...base,
          policy: stored.policy,
          ring: ringIndex < 0 ? null : { name: stored.policy.rings[ringIndex].name, index: ringIndex },
          gate,
          lines: policyView(store, host).lines,
        };
      },
    );
    app.post(
      '/api/v1/agent/patch-runs',
      {
        config: { access: 'host' },
        // 20,000 changes with their versions and messages fit well within this.
        bodyLimit: 8 * 1024 * 1024,
        schema: {
          summary:
            'Report a patch run (patchloop.patch-run/v1); idempotent by run id, a later report of the same run updates its reboot state',
          tags: ['agent'],
          body: PatchRunSchema,
          response: { 200: PatchRunAckSchema, 201: PatchRunAckSchema, 400: ErrorSchema, 409: ErrorSchema },
        },
      },
      async (request, reply) => {
        const host = callingHost(request.principal);
        const r = recordRun(store, host, request.body);
        request.log.info(
          { host_id: host.id, run_id: request.body.id, outcome: request.body.outcome, status: r.status },
          'patch run',
        );
        return reply
          .code(r.status === 'created' ? 201 : 200)
          .send({ id: request.body.id, status: r.status, received_at: new Date(r.received_at).toISOString() });
      },
    );
    app.post(
      '/api/v1/agent/boot',
      {
        config: { access: 'host' },
        schema: {
          summary: 'The host is back after a reboot patchloop asked for: records it and releases the lease',
          tags: ['agent'],
          body: BootReportSchema,
          response: { 200: BootAckSchema, 404: ErrorSchema },
        },
      },
      async (request) => {
        const host = callingHost(request.principal);
        const r = recordBoot(store, host, request.body);
        request.log.info(
          { host_id: host.id, run_id: request.body.run_id, lease_released: r.lease_released },
          'host back after reboot',
        );
        return {
          run_id: request.body.run_id,
          lease_released: r.lease_released,
          received_at: new Date(r.received_at).toISOString(),
        };
      },
    );
    app.post(
      '/api/v1/agent/reboot-lease',
      {
        config: { access: 'host' },
        schema: {
          summary: "Acquire, renew or release a slot of the group's reboot semaphore",
          description:
            'At most reboot.max_concurrent hosts of a group hold a lease at once; a lease not renewed or released expires after reboot.lease_ttl_minutes. ' +
            'Refused (granted: false, retry_at) when the slots are taken or outside the maintenance window.',
          tags: ['agent'],
          body: LeaseRequestSchema,
          response: { 200: LeaseResponseSchema, 404: ErrorSchema, 409: ErrorSchema },
        },
      },
      async (request) => {
        const host = callingHost(request.principal);
        const body = request.body;
        if (body.action === 'release')
          return { released: releaseLease(store, host, body.lease_id), lease_id: body.lease_id };
        const stored = policyForGroup(store, host.group);
        if (!stored) throw new HttpError('PL_E_CONFLICT', `no policy governs group "${host.group}": no reboot leases`);
        if (body.action === 'renew')
          return { granted: true as const, renewed: true, ...renewLease(store, host, stored.policy, body.lease_id) };
        const r = acquireLease(store, host, stored.policy, body);
        request.log.info({ host_id: host.id, group: host.group, granted: r.granted }, 'reboot lease request');
        return r;
      },
    );
  };
