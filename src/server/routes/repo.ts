// The server's own package repositories and the install script (src/server/repo): public
// routes, as package managers and `curl | sh` come without credentials. Paths below /repo/ are
// looked up whole in the current metadata; nothing else under /repo/ exists. Also the agent
// versions of the fleet against the newest version published (for the dashboard).
import { createReadStream } from 'node:fs';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ServerContext } from '../context.ts';
import { agentVersions, AgentVersionsSchema } from '../repo/agent-versions.ts';
import { installScript } from '../repo/install-sh.ts';
import { requestOrigin } from '../repo/public-url.ts';
import { PackageRepository } from '../repo/repository.ts';

const RepoStatusSchema = z.object({
  enabled: z.boolean(),
  packages_dir: z.string().nullable(),
  latest: z.string().nullable(),
  fingerprint: z.string().nullable(),
  packages: z.array(
    z.object({ file: z.string(), kind: z.enum(['deb', 'rpm', 'apk']), arch: z.string(), version: z.string() }),
  ),
  skipped: z.array(z.string()),
});

export const repoRoutes =
  (ctx: ServerContext): FastifyPluginAsyncZod =>
  async (app) => {
    const settings = ctx.config.repo;
    const log = ctx.log.child({ job: 'repo' });
    const repo = settings.enabled
      ? new PackageRepository({ packagesDir: settings.packages_dir, dataDir: ctx.config.data_dir, log })
      : null;

    app.get(
      '/api/v1/stats/agent-versions',
      {
        config: { access: 'viewer' },
        schema: {
          summary: 'Agent versions in the fleet and how many hosts run the newest one the repository publishes',
          tags: ['stats'],
          response: { 200: AgentVersionsSchema },
        },
      },
      async () => {
        // The fleet's versions are worth showing even when the repository cannot be built.
        const latest = repo
          ? await repo.snapshot().then(
              (s) => s.latest,
              (err: unknown) => (log.warn({ error: (err as Error).message }, 'package repository unavailable'), null),
            )
          : null;
        return agentVersions(ctx.store, latest);
      },
    );
    app.get(
      '/api/v1/repo',
      {
        config: { access: 'viewer' },
        schema: {
          summary: 'The package repositories: what is published from where, the signing key',
          tags: ['repo'],
          response: { 200: RepoStatusSchema },
        },
      },
      async () => {
        if (!repo)
          return { enabled: false, packages_dir: null, latest: null, fingerprint: null, packages: [], skipped: [] };
        const snapshot = await repo.snapshot();
        return {
          enabled: true,
          packages_dir: repo.packagesDir,
          latest: snapshot.latest,
          fingerprint: (await repo.keys()).fingerprint,
          packages: snapshot.packages.map((p) => ({ file: p.name, kind: p.kind, arch: p.arch, version: p.version })),
          skipped: snapshot.skipped,
        };
      },
    );
    if (!repo) return;

    // The keys are made on the first start (in the background; a request waits for them).
    app.addHook('onListen', async () => {
      repo
        .keys()
        .catch((err: unknown) =>
          log.error({ error: (err as Error).message }, 'cannot make the package repository signing keys'),
        );
    });

    app.get('/repo/*', { config: { access: 'public' }, schema: { hide: true } }, async (request, reply) => {
      const path = (request.params as { '*': string })['*'];
      const file = (await repo.snapshot()).files.get(path);
      if (!file) return reply.code(404).send({ error: 'not_found', message: `no file ${request.url.split('?')[0]}` });
      reply
        .type(file.type)
        .header('content-length', file.size)
        .header('cache-control', file.immutable ? 'public, max-age=86400' : 'no-cache');
      return reply.send(file.body ?? createReadStream(file.path!));
    });

    app.get('/install.sh', { config: { access: 'public' }, schema: { hide: true } }, async (request, reply) => {
      const server = requestOrigin(settings.public_url, ctx.config.tls !== undefined, request.headers.host);
      if (!server)
        return reply
          .code(400)
          .send({ error: 'bad_request', message: 'the Host header is not a plain host name: set repo.public_url' });
      const keys = await repo.keys();
      const script = installScript({
        server,
        openpgpKey: keys.publicKeyArmored,
        apkKeyName: keys.apkKeyName,
        apkKeyPem: keys.apkPublicKeyPem,
      });
      return reply.type('text/x-shellscript; charset=utf-8').header('cache-control', 'no-store').send(script);
    });
  };
