// CSAF product trees as Red Hat writes them: platform products identified by CPE
// (`cpe:/a:redhat:enterprise_linux:9::appstream`), rpm components identified by purl
// (`pkg:rpm/redhat/bind@9.16.23-5.el9_1?arch=x86_64&epoch=32`), module streams as
// `pkg:rpmmod/redhat/nodejs@18:…`, tied together by `default_component_of` relationships
// that may nest (package → module → platform).

/** A product as the tree's branches declare it. */
export interface TreeProduct {
  name: string;
  cpe?: string;
  purl?: string;
}

interface Relationship {
  component: string;
  parent: string;
}

/** One rpm component on one platform, as a product id in `product_status` resolves to. */
export interface ResolvedComponent {
  platformCpe: string | null;
  /** `name:stream` of the module the component belongs to, if any. */
  moduleStream: string | null;
  name: string;
  /** `[E:]V-R`, epoch only when non-zero; null for a component named without a version. */
  evr: string | null;
  /** null when not stated. */
  arch: string | null;
}

export interface CsafBranch {
  category?: string;
  name?: string;
  product?: { name: string; product_id: string; product_identification_helper?: { cpe?: string; purl?: string } };
  branches?: CsafBranch[];
}

export interface CsafRelationship {
  category?: string;
  full_product_name: { name?: string; product_id: string };
  product_reference: string;
  relates_to_product_reference: string;
}

export class ProductTree {
  private readonly products = new Map<string, TreeProduct>();
  private readonly relationships = new Map<string, Relationship>();

  constructor(branches: readonly CsafBranch[], relationships: readonly CsafRelationship[]) {
    const walk = (list: readonly CsafBranch[]): void => {
      for (const b of list) {
        if (b.product) {
          const h = b.product.product_identification_helper;
          this.products.set(b.product.product_id, { name: b.product.name, cpe: h?.cpe, purl: h?.purl });
        }
        if (b.branches) walk(b.branches);
      }
    };
    walk(branches);
    for (const r of relationships) {
      this.relationships.set(r.full_product_name.product_id, {
        component: r.product_reference,
        parent: r.relates_to_product_reference,
      });
    }
  }

  /** The platform CPE and module stream a product id (a platform or a relationship) stands for. */
  private context(id: string, depth = 0): { cpe: string | null; module: string | null } {
    if (depth > 8) return { cpe: null, module: null };
    const rel = this.relationships.get(id);
    if (rel) {
      const outer = this.context(rel.parent, depth + 1);
      const inner = this.products.get(rel.component);
      const module = inner?.purl ? moduleStreamOfPurl(inner.purl) : null;
      return { cpe: outer.cpe, module: module ?? outer.module };
    }
    const p = this.products.get(id);
    return { cpe: p?.cpe ?? null, module: p?.purl ? moduleStreamOfPurl(p.purl) : null };
  }

  /** What a product id in `product_status` names; null when it is not an rpm component on a platform. */
  resolve(productId: string): ResolvedComponent | null {
    const rel = this.relationships.get(productId);
    if (!rel) return null;
    const ctx = this.context(rel.parent);
    const component = this.products.get(rel.component);
    const parsed = component ? parseComponent(component) : parseNevra(rel.component);
    if (!parsed) return null;
    return {
      platformCpe: ctx.cpe,
      moduleStream: parsed.moduleStream ?? ctx.module,
      name: parsed.name,
      evr: parsed.evr,
      arch: parsed.arch,
    };
  }
}

function moduleStreamOfPurl(purl: string): string | null {
  const m = /^pkg:rpmmod\/redhat\/([^@?#]+)@([^:?#]+)/.exec(purl);
  const name = m ? decoded(m[1]) : null;
  const stream = m ? decoded(m[2]) : null;
  return name !== null && stream !== null ? `${name}:${stream}` : null;
}

/** A purl part without its percent-encoding; null when that is malformed (`%ZZ`): not a purl. */
function decoded(part: string): string | null {
  try {
    return decodeURIComponent(part);
  } catch {
    return null;
  }
}

interface ParsedComponent {
  name: string;
  evr: string | null;
  arch: string | null;
  moduleStream: string | null;
}

function withEpoch(epoch: string | null | undefined, vr: string): string {
  return epoch && !/^0+$/.test(epoch) ? `${epoch}:${vr}` : vr;
}

/** `pkg:rpm/redhat/bind@9.16.23-5.el9_1?arch=x86_64&epoch=32` (version optional). */
export function parseRpmPurl(purl: string): ParsedComponent | null {
  const m = /^pkg:rpm\/redhat\/([^@?#]+)(?:@([^?#]+))?(?:\?([^#]*))?$/.exec(purl);
  if (!m) return null;
  const q = new URLSearchParams(m[3] ?? '');
  const name = decoded(m[1]);
  const vr = m[2] ? decoded(m[2]) : null;
  if (name === null || (m[2] && vr === null)) return null;
  const rpmmod = q.get('rpmmod');
  return {
    name,
    evr: vr && vr.includes('-') ? withEpoch(q.get('epoch'), vr) : null,
    arch: q.get('arch'),
    moduleStream: rpmmod ? rpmmod.split(':').slice(0, 2).join(':') : null,
  };
}

/** `bind-32:9.16.23-5.el9_1.x86_64` → its parts; a bare component name has no version. */
export function parseNevra(s: string): ParsedComponent | null {
  const m = /^(.+)-(?:(\d+):)?([^-:]+)-([^-]+)\.([A-Za-z0-9_]+)$/.exec(s);
  if (m) return { name: m[1], evr: withEpoch(m[2], `${m[3]}-${m[4]}`), arch: m[5], moduleStream: null };
  // Unfixed components are named without a version: `bind`, or `nodejs:18/nodejs` in a module.
  const mod = /^([A-Za-z0-9_.+-]+:[A-Za-z0-9_.+-]+)\/([A-Za-z0-9_.+-]+)$/.exec(s);
  if (mod) return { name: mod[2], evr: null, arch: null, moduleStream: mod[1] };
  return /^[A-Za-z0-9_.+-]+$/.test(s) ? { name: s, evr: null, arch: null, moduleStream: null } : null;
}

function parseComponent(p: TreeProduct): ParsedComponent | null {
  if (p.purl?.startsWith('pkg:rpm/')) return parseRpmPurl(p.purl);
  if (p.purl) return null;
  return parseNevra(p.name);
}
