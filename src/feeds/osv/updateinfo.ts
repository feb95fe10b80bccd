// yum/dnf `updateinfo.xml` (repodata), the errata list every RHEL-family repository carries:
// per update its id, type, severity, CVE references and, per collection, the binary rpms
// (name, epoch, version, release, arch) and the module stream they belong to. It is the one
// source of binary package names, arches and module streams for Rocky Linux.
import sax from 'sax';
import type { AdvisoryEntry, VulnerabilityInfo } from '../../core/types.ts';
import { getScheme } from '../../core/version/index.ts';
import { fromRedHatImpact } from '../common/severity.ts';

export interface UpdateinfoResult {
  entries: AdvisoryEntry[];
  vulnerabilities: VulnerabilityInfo[];
  updates: number;
  /** Bug-fix/enhancement updates without a CVE. */
  nonSecurity: number;
  problems: string[];
}

interface Pkg {
  name: string;
  epoch: string;
  version: string;
  release: string;
  arch: string;
}

interface Update {
  id: string;
  type: string;
  title: string;
  severity: string;
  release: string;
  issued: string | null;
  updated: string | null;
  description: string;
  cves: string[];
  refs: string[];
  /** Per collection: its module stream and packages. */
  collections: { stream: string | null; packages: Pkg[] }[];
}

/** An updateinfo document that cannot be read; the message says why. */
export class UpdateinfoError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'UpdateinfoError';
  }
}

export function looksLikeUpdateinfo(text: string): boolean {
  return /<updates[\s>]/.test(text.slice(0, 4096));
}

/**
 * Parses one updateinfo document into entries for `distro`. The release (major version) comes
 * from each update's `<release>` ("Rocky Linux 8"), else from `defaultRelease`.
 */
export function parseUpdateinfo(xml: string, opts: { feed: string; distro: string; defaultRelease?: string }): UpdateinfoResult {
  const out: UpdateinfoResult = { entries: [], vulnerabilities: [], updates: 0, nonSecurity: 0, problems: [] };
  const rpm = getScheme('rpm');
  const parser = sax.parser(true, { trim: false });
  const path: string[] = [];
  let u: Update | null = null;
  let text = '';

  parser.onopentag = (tag) => {
    path.push(tag.name);
    text = '';
    const a = tag.attributes as Record<string, string>;
    if (tag.name === 'update') {
      u = { id: '', type: a.type ?? '', title: '', severity: '', release: '', issued: null, updated: null, description: '', cves: [], refs: [], collections: [] };
    } else if (!u) {
      return;
    } else if (tag.name === 'issued') {
      u.issued = a.date ?? null;
    } else if (tag.name === 'updated') {
      u.updated = a.date ?? null;
    } else if (tag.name === 'reference') {
      if (a.href) u.refs.push(a.href);
      if ((a.type === 'cve' || /^CVE-\d{4}-\d+$/.test(a.id ?? '')) && /^CVE-\d{4}-\d+$/.test(a.id ?? '') && !u.cves.includes(a.id)) u.cves.push(a.id);
    } else if (tag.name === 'collection') {
      u.collections.push({ stream: null, packages: [] });
    } else if (tag.name === 'module') {
      const c = u.collections.at(-1);
      if (c && a.name && a.stream) c.stream = `${a.name}:${a.stream}`;
    } else if (tag.name === 'package') {
      const c = u.collections.at(-1);
      if (c && a.name && a.version && a.release && a.arch) {
        c.packages.push({ name: a.name, epoch: a.epoch ?? '0', version: a.version, release: a.release, arch: a.arch });
      } else {
        out.problems.push(`${u.id || '(update)'}: package without name, version, release or arch`);
      }
    }
  };
  parser.ontext = (t) => {
    text += t;
  };
  parser.oncdata = (t) => {
    text += t;
  };
  parser.onclosetag = (name) => {
    path.pop();
    if (!u) return;
    const parent = path.at(-1);
    if (parent === 'update') {
      if (name === 'id') u.id = text.trim();
      else if (name === 'title') u.title = text.trim();
      else if (name === 'severity') u.severity = text.trim();
      else if (name === 'release') u.release = text.trim();
      else if (name === 'description') u.description = text.trim();
    }
    if (name === 'update') {
      emit(u);
      u = null;
    }
  };

  const emit = (up: Update): void => {
    out.updates++;
    if (!up.id) {
      out.problems.push('an update without an id');
      return;
    }
    const security = up.type === 'security' || /^(AL|RL|RH)SA-/.test(up.id);
    if (!security && up.cves.length === 0) {
      out.nonSecurity++;
      return;
    }
    const release = /(\d+)/.exec(up.release)?.[1] ?? opts.defaultRelease;
    if (!release) {
      out.problems.push(`${up.id}: no release ("${up.release}") to file it under`);
      return;
    }
    const vulnId = up.cves.length === 1 ? up.cves[0] : up.id;
    const impact = up.severity && up.severity !== 'None' ? up.severity : (/^(Low|Moderate|Important|Critical):/.exec(up.title)?.[1] ?? '');
    for (const c of up.collections) {
      for (const p of c.packages) {
        if (p.arch === 'src') continue;
        const evr = `${/^0*$/.test(p.epoch) ? '' : `${p.epoch}:`}${p.version}-${p.release}`;
        const why = rpm.validate(evr);
        if (why) {
          out.problems.push(`${up.id}: ${p.name} ${evr}: ${why}`);
          continue;
        }
        out.entries.push({
          feed: opts.feed,
          distro: opts.distro,
          release,
          package: p.name,
          key_kind: 'binary',
          scheme: 'rpm',
          vuln_id: vulnId,
          status: 'fixed',
          raw_status: 'fixed',
          introduced: null,
          fixed_version: evr,
          last_affected: null,
          severity: impact ? fromRedHatImpact(impact) : 'unknown',
          raw_severity: impact,
          advisory_ids: [up.id],
          module_stream: c.stream,
          arches: p.arch === 'noarch' ? [] : [p.arch],
        });
      }
    }
    const aliases = [...new Set([up.id, ...up.cves])].filter((x) => x !== vulnId);
    out.vulnerabilities.push({
      id: vulnId,
      aliases,
      description: [up.title, up.description].filter(Boolean).join('\n\n'),
      published: up.issued,
      modified: up.updated,
      references: up.refs,
    });
  };

  // Only sax's own complaints are about the document; anything else thrown here is a bug to surface.
  parser.onerror = (err) => {
    throw new UpdateinfoError(`not well-formed XML: ${err.message.split('\n')[0]}`, { cause: err });
  };
  parser.write(xml).close();
  return out;
}
