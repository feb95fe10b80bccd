// yum/dnf `updateinfo.xml` (repodata), the errata list every RHEL-family repository carries,
// and Amazon Linux's too: per update its id, type, severity, CVE references and, per
// collection, the binary rpms (name, epoch, version, release, arch) and the module stream they
// belong to. It is the one source of binary package names, arches and module streams for Rocky
// Linux, and Amazon Linux's only advisory feed.
//
// The document is read as a stream of SAX events, chunk by chunk, and each update is handed on
// as soon as its closing tag is read: a large file is never held as a tree. What differs
// between publishers (their severity words, how an update names its release) is an option.
import sax from 'sax';
import type { AdvisoryEntry, Severity, VulnerabilityInfo } from '../../core/types.ts';
import { getScheme } from '../../core/version/index.ts';
import { fromRedHatImpact } from './severity.ts';
import { PatchloopError } from '../../core/errors.ts';

/** An update as the document gives it, for the options that decide about it. */
export interface UpdateHeader {
  id: string;
  /** The `<release>` text ("Rocky Linux 8"); empty when the update has none (Amazon Linux). */
  release: string;
}

export interface UpdateinfoOptions {
  feed: string;
  distro: string;
  /**
   * The release key an update is filed under, or why it is skipped. Default: the number in its
   * `<release>` ("Rocky Linux 8" → `8`), else `defaultRelease`.
   */
  releaseOf?: (update: UpdateHeader) => string | { skip: string };
  defaultRelease?: string;
  /** The publisher's severity words (default: Red Hat's impact, Low/Moderate/Important/Critical). */
  severity?: (word: string) => Severity;
}

/** Where parsed updates go, one at a time. */
export interface UpdateinfoSink {
  entry(e: AdvisoryEntry): void;
  vulnerability(v: VulnerabilityInfo): void;
  /** A record that was skipped or partly skipped; the message starts with the update's id. */
  problem(message: string): void;
}

export interface UpdateinfoCounts {
  updates: number;
  /** Bug-fix/enhancement updates without a CVE. */
  nonSecurity: number;
}

export interface UpdateinfoResult extends UpdateinfoCounts {
  entries: AdvisoryEntry[];
  vulnerabilities: VulnerabilityInfo[];
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
export class UpdateinfoError extends PatchloopError {
  constructor(message: string, options?: ErrorOptions) {
    super('PL_E_FEED_INPUT', message, options);
  }
}

export function looksLikeUpdateinfo(text: string): boolean {
  return /<updates[\s>]/.test(text.slice(0, 4096));
}

const CVE_ID = /^CVE-\d{4}-\d+$/;

/** Parses one whole updateinfo document, collecting what it holds. */
export function parseUpdateinfo(xml: string, opts: UpdateinfoOptions): UpdateinfoResult {
  const out: UpdateinfoResult = { entries: [], vulnerabilities: [], problems: [], updates: 0, nonSecurity: 0 };
  const counts = readUpdateinfo([xml], opts, {
    entry: (e) => out.entries.push(e),
    vulnerability: (v) => out.vulnerabilities.push(v),
    problem: (m) => out.problems.push(m),
  });
  return { ...out, ...counts };
}

/**
 * Reads an updateinfo document given as consecutive pieces of its text, handing every update's
 * entries and vulnerability to `sink` as it is read. Throws UpdateinfoError when the text is
 * not well-formed XML (what was handed on before stays handed on: the caller abandons the file).
 */
export function readUpdateinfo(
  chunks: Iterable<string>,
  opts: UpdateinfoOptions,
  sink: UpdateinfoSink,
): UpdateinfoCounts {
  const counts: UpdateinfoCounts = { updates: 0, nonSecurity: 0 };
  const rpm = getScheme('rpm');
  const severityOf = opts.severity ?? fromRedHatImpact;
  const releaseOf =
    opts.releaseOf ??
    ((u: UpdateHeader) =>
      /(\d+)/.exec(u.release)?.[1] ?? opts.defaultRelease ?? { skip: `no release ("${u.release}") to file it under` });
  const parser = sax.parser(true, { trim: false });
  const path: string[] = [];
  let u: Update | null = null;
  let text = '';

  parser.onopentag = (tag) => {
    path.push(tag.name);
    text = '';
    const a = tag.attributes as Record<string, string>;
    if (tag.name === 'update') {
      u = {
        id: '',
        type: a.type ?? '',
        title: '',
        severity: '',
        release: '',
        issued: null,
        updated: null,
        description: '',
        cves: [],
        refs: [],
        collections: [],
      };
    } else if (!u) {
      return;
    } else if (tag.name === 'issued') {
      u.issued = a.date ?? null;
    } else if (tag.name === 'updated') {
      u.updated = a.date ?? null;
    } else if (tag.name === 'reference') {
      if (a.href) u.refs.push(a.href);
      if (CVE_ID.test(a.id ?? '') && !u.cves.includes(a.id)) u.cves.push(a.id);
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
        sink.problem(`${u.id || '(update)'}: package without name, version, release or arch`);
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
    counts.updates++;
    if (!up.id) {
      sink.problem('an update without an id');
      return;
    }
    const security = up.type === 'security' || /^(AL|RL|RH)SA-/.test(up.id);
    if (!security && up.cves.length === 0) {
      counts.nonSecurity++;
      return;
    }
    const release = releaseOf({ id: up.id, release: up.release });
    if (typeof release !== 'string') {
      sink.problem(`${up.id}: ${release.skip}`);
      return;
    }
    // Each CVE the update names is a vulnerability of its own, with the update among its
    // advisory ids; an update that names no CVE is one under its own id.
    const vulnIds = up.cves.length ? up.cves : [up.id];
    const impact =
      up.severity && up.severity !== 'None'
        ? up.severity
        : (/^(Low|Moderate|Important|Critical):/.exec(up.title)?.[1] ?? '');
    for (const c of up.collections) {
      for (const p of c.packages) {
        if (p.arch === 'src') continue;
        const evr = `${/^0*$/.test(p.epoch) ? '' : `${p.epoch}:`}${p.version}-${p.release}`;
        const why = rpm.validate(evr);
        if (why) {
          sink.problem(`${up.id}: ${p.name} ${evr}: ${why}`);
          continue;
        }
        for (const vulnId of vulnIds) {
          sink.entry({
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
            severity: impact ? severityOf(impact) : 'unknown',
            raw_severity: impact,
            advisory_ids: [up.id],
            module_stream: c.stream,
            arches: p.arch === 'noarch' ? [] : [p.arch],
          });
        }
      }
    }
    for (const vulnId of vulnIds) {
      sink.vulnerability({
        id: vulnId,
        aliases: vulnId === up.id ? [] : [up.id],
        description: [up.title, up.description].filter(Boolean).join('\n\n'),
        published: up.issued,
        modified: up.updated,
        references: up.refs,
      });
    }
  };

  // Only sax's own complaints are about the document; anything else thrown here is a bug to surface.
  parser.onerror = (err) => {
    throw new UpdateinfoError(`not well-formed XML: ${err.message.split('\n')[0]}`, { cause: err });
  };
  for (const chunk of chunks) parser.write(chunk);
  parser.close();
  return counts;
}

/** The UTF-8 text of `data` in pieces of about `size` bytes (a byte-order mark dropped), for readUpdateinfo. */
export function* utf8Chunks(data: Uint8Array, size = 1 << 20): Generator<string> {
  const decoder = new TextDecoder('utf-8', { ignoreBOM: false });
  for (let at = 0; at < data.length; at += size) yield decoder.decode(data.subarray(at, at + size), { stream: true });
  const rest = decoder.decode();
  if (rest) yield rest;
}
