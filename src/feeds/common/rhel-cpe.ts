// Red Hat CPEs → the RHEL major release a host's os-release names: used by the Red Hat feeds
// (CSAF, the security data API) and by OSV's "Red Hat" ecosystem.

/**
 * The RHEL major release of a mainline product, from the product part of a Red Hat CPE
 * (`enterprise_linux:9::appstream`, `rhel_els:6`). Minor-pinned streams (EUS, AUS, TUS, E4S,
 * SAP) are null: their fixed builds are not what a host on the main stream installs, and a
 * host's os-release does not say which of those streams it follows.
 */
export function rhelMajorFromCpeProduct(product: string): string | null {
  const m = /^(enterprise_linux|rhel_els|rhel):(\d+)(?:\.\d+)?(?::|$)/.exec(product);
  return m ? m[2] : null;
}

/**
 * RHEL major release of a full CPE (`cpe:/o:redhat:enterprise_linux:9::baseos`); null when not a mainline RHEL product.
 */
export function rhelMajorFromCpe(cpe: string): string | null {
  const m = /^cpe:\/[aoh]:redhat:(.*)$/.exec(cpe);
  return m ? rhelMajorFromCpeProduct(m[1]) : null;
}
