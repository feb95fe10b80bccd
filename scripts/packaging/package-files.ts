// Writes the generated files the packages carry, into OUTDIR:
//   man/patchloop.1.gz                          the man page, from the commands' own help
//   completions/{patchloop.bash,_patchloop,patchloop.fish}
//   systemd/patchloop-{agent,agent-flush,server}.{service,timer}   units for /usr/bin/patchloop
//   doc/copyright                               Debian's machine-readable copyright file
//   doc/third-party-licenses.txt                Node.js and the npm packages the bundles inline
// Run with the project's Node: node scripts/packaging/package-files.ts OUTDIR METAFILE...
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { createProgram } from '../../src/cli/program.ts';
import { PATCHLOOP_VERSION } from '../../src/version.ts';
import { renderUnit } from '../../src/agent/install.ts';
import { commandTree } from './command-tree.ts';
import { manPage } from './manpage.ts';
import { bashCompletion, fishCompletion, zshCompletion } from './completions.ts';
import { debianCopyright } from './debian-docs.ts';
import { thirdPartyLicences } from './third-party.ts';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Where the packages install things (DESIGN.md "Packaging", docs/install.md). */
export const PACKAGE_PATHS = {
  bin: '/usr/bin/patchloop',
  agentConfig: '/etc/patchloop/agent.yaml',
  agentState: '/var/lib/patchloop/agent',
  dataDir: '/var/lib/patchloop',
  serverData: '/var/lib/patchloop/server',
  documentation: 'man:patchloop(1)',
};

/** The server unit of a checkout (installed in /opt/patchloop) made the package's. */
export function packagedServerUnit(text: string): string {
  const body = text.replace(/^(#.*\n)+/, '');
  const header = [
    '# patchloop server, as installed by the package: runs as the system user patchloop, keeps its',
    `# data in ${PACKAGE_PATHS.serverData}, reads /etc/patchloop/server.yaml. Not enabled by the`,
    '# package: systemctl enable --now patchloop-server. The first start prints the generated admin',
    '# password once: journalctl -u patchloop-server',
  ].join('\n');
  const replaced = body
    .replace(/^Documentation=.*$/m, `Documentation=${PACKAGE_PATHS.documentation}`)
    .replace(/^Environment=PATCHLOOP_HOME=.*$/m, `Environment=PATCHLOOP_HOME=${PACKAGE_PATHS.serverData}`)
    .replace(/^ExecStart=\S+/m, `ExecStart=${PACKAGE_PATHS.bin}`)
    .replace(/^StateDirectory=.*$/m, 'StateDirectory=patchloop/server');
  for (const [what, re] of [
    ['Documentation', /^Documentation=man:/m],
    ['ExecStart', /^ExecStart=\/usr\/bin\/patchloop server run$/m],
    ['StateDirectory', /^StateDirectory=patchloop\/server$/m],
    ['PATCHLOOP_HOME', /^Environment=PATCHLOOP_HOME=\/var\/lib\/patchloop\/server$/m],
  ] as const) {
    if (!re.test(replaced)) throw new Error(`deploy/systemd/patchloop-server.service: no ${what}= line to adapt`);
  }
  return `${header}\n${replaced}`;
}

function write(file: string, text: string | Buffer): void {
  writeFileSync(file, text);
}

if (import.meta.main) {
  const [out, ...metafiles] = process.argv.slice(2);
  if (!out) throw new Error('usage: node scripts/packaging/package-files.ts OUTDIR METAFILE...');
  // The page's date: the build's (SOURCE_DATE_EPOCH when set, for reproducible builds).
  const epoch = process.env.SOURCE_DATE_EPOCH ? Number(process.env.SOURCE_DATE_EPOCH) * 1000 : Date.now();
  const date = new Date(epoch);
  const tree = commandTree(createProgram());
  for (const dir of ['man', 'completions', 'systemd', 'doc']) mkdirSync(join(out, dir), { recursive: true });
  // zlib's gzip header carries no name and no time: the same page gives the same bytes.
  write(
    join(out, 'man/patchloop.1.gz'),
    gzipSync(manPage(tree, PATCHLOOP_VERSION, date.toISOString().slice(0, 10)), { level: 9 }),
  );
  write(join(out, 'completions/patchloop.bash'), bashCompletion(tree));
  write(join(out, 'completions/_patchloop'), zshCompletion(tree));
  write(join(out, 'completions/patchloop.fish'), fishCompletion(tree));
  const unit = {
    unitDir: '',
    enable: false,
    bin: PACKAGE_PATHS.bin,
    config: PACKAGE_PATHS.agentConfig,
    stateDir: PACKAGE_PATHS.agentState,
    dataDir: PACKAGE_PATHS.dataDir,
    documentation: PACKAGE_PATHS.documentation,
  };
  write(join(out, 'systemd/patchloop-agent.service'), renderUnit('patchloop-agent.service.in', unit));
  write(join(out, 'systemd/patchloop-agent.timer'), renderUnit('patchloop-agent.timer', unit));
  write(join(out, 'systemd/patchloop-agent-flush.service'), renderUnit('patchloop-agent-flush.service.in', unit));
  write(join(out, 'systemd/patchloop-agent-flush.timer'), renderUnit('patchloop-agent-flush.timer', unit));
  write(join(out, 'doc/copyright'), debianCopyright(date.getUTCFullYear()));
  write(
    join(out, 'doc/third-party-licenses.txt'),
    thirdPartyLicences(
      REPO_ROOT,
      metafiles.map((f) => JSON.parse(readFileSync(f, 'utf8')) as { inputs: Record<string, unknown> }),
    ),
  );
  write(
    join(out, 'systemd/patchloop-server.service'),
    packagedServerUnit(readFileSync(join(REPO_ROOT, 'deploy/systemd/patchloop-server.service'), 'utf8')),
  );
}
