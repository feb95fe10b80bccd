// Which search engine answers at a URL, and the protocol choices that follow from it.
// Pure: the client feeds it the response of `GET /`.
import { z } from 'zod';

export type ProductKind = 'elasticsearch' | 'opensearch';

export interface Product {
  kind: ProductKind;
  /** Version as reported, e.g. `8.15.2`, `2.19.6`. */
  version: string;
  major: number;
  /** Elastic Cloud Serverless (`build_flavor: serverless`): no ILM, data stream lifecycle only. */
  serverless: boolean;
}

/** Supported major versions: Elasticsearch 8/9, OpenSearch 2/3 (issue 6). */
const SUPPORTED: Record<ProductKind, readonly number[]> = {
  elasticsearch: [8, 9],
  opensearch: [2, 3],
};

const rootSchema = z.object({
  tagline: z.string().optional(),
  version: z.object({
    number: z.string(),
    distribution: z.string().optional(),
    build_flavor: z.string().optional(),
  }),
});

/**
 * Identifies the product from `GET /`. OpenSearch says `version.distribution: "opensearch"`
 * (also in its 7.10.2 compatibility mode); Elasticsearch >= 7.14 sends `X-Elastic-Product:
 * Elasticsearch`, older ones only the tagline. Throws a clear error for anything else or
 * for an unsupported major version.
 */
export function detectProduct(body: unknown, headers: Record<string, string | string[] | undefined>): Product {
  const parsed = rootSchema.safeParse(body);
  if (!parsed.success) {
    throw new Error(
      'GET / did not return an Elasticsearch/OpenSearch banner (no version.number); is this the cluster URL?',
    );
  }
  const root = parsed.data;
  const elasticHeader = headerValue(headers, 'x-elastic-product');
  let kind: ProductKind;
  if (root.version.distribution === 'opensearch') {
    kind = 'opensearch';
  } else if (elasticHeader === 'Elasticsearch' || root.tagline === 'You Know, for Search') {
    kind = 'elasticsearch';
  } else {
    throw new Error(
      `GET / answered with version ${root.version.number} but neither as OpenSearch (version.distribution) nor as Elasticsearch (X-Elastic-Product header)`,
    );
  }
  const major = Number.parseInt(root.version.number, 10);
  if (!Number.isInteger(major) || !SUPPORTED[kind].includes(major)) {
    const name = kind === 'opensearch' ? 'OpenSearch' : 'Elasticsearch';
    throw new Error(
      `${name} ${root.version.number} is not supported; patchloop exports to ${name} ${SUPPORTED[kind].join(' or ')}`,
    );
  }
  return { kind, version: root.version.number, major, serverless: root.version.build_flavor === 'serverless' };
}

export interface MediaTypes {
  json: string;
  ndjson: string;
}

/**
 * Content types per product. Elasticsearch gets its versioned media types
 * (`compatible-with=<major>`), which pin the REST API version the requests were written
 * for; OpenSearch answers those with 406 Not Acceptable, so it gets the plain ones.
 */
export function mediaTypes(product: Product | null): MediaTypes {
  if (product?.kind === 'elasticsearch') {
    return {
      json: `application/vnd.elasticsearch+json; compatible-with=${product.major}`,
      ndjson: `application/vnd.elasticsearch+x-ndjson; compatible-with=${product.major}`,
    };
  }
  return { json: 'application/json', ndjson: 'application/x-ndjson' };
}

/** Lifecycle mechanism per product: ILM on Elasticsearch, ISM (a plugin) on OpenSearch. */
export function lifecycleKind(product: Product): 'ilm' | 'ism' | 'data_stream_lifecycle' {
  if (product.kind === 'opensearch') return 'ism';
  return product.serverless ? 'data_stream_lifecycle' : 'ilm';
}

function headerValue(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === name) return Array.isArray(value) ? value[0] : value;
  }
  return undefined;
}
