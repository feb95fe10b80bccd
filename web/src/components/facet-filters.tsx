// Group, tag and release selects fed by the server's host facets (GET /api/v1/hosts/facets),
// so a filter offers only values the fleet has, with their host counts. A value in the URL
// that the fleet no longer has stays selectable, so a shared link still shows what it filters.
import type { HostFacets } from '../api/types.ts';
import { useApi } from '../api/use-api.ts';
import { int } from '../lib/format.ts';
import { SelectFilter } from './filters.tsx';

export function useFacets() {
  return useApi<HostFacets>('/api/v1/hosts/facets');
}

type Option = [string, string];

function withCurrent(options: Option[], value: string | undefined): Option[] {
  return value && !options.some(([v]) => v === value) ? [...options, [value, value]] : options;
}

/** Groups with hosts; the unnamed group cannot be a filter value (an empty filter means any). */
export function groupOptions(facets: HostFacets | undefined, value: string | undefined): Option[] {
  const named = (facets?.groups ?? []).filter((g) => g.name !== '');
  return withCurrent(
    named.map((g) => [g.name, `${g.name} (${int(g.hosts)})`]),
    value,
  );
}

export function tagOptions(facets: HostFacets | undefined, value: string | undefined): Option[] {
  return withCurrent(
    (facets?.tags ?? []).map((t) => [t.name, `${t.name} (${int(t.hosts)})`]),
    value,
  );
}

/** Releases as `distro/release` values. */
export function releaseOptions(facets: HostFacets | undefined, value: string | undefined): Option[] {
  return withCurrent(
    (facets?.releases ?? []).map((r) => [`${r.distro}/${r.release}`, `${r.distro} ${r.release} (${int(r.hosts)})`]),
    value,
  );
}

export function GroupSelect(props: {
  facets: HostFacets | undefined;
  value: string | undefined;
  onChange(v: string | undefined): void;
  anyLabel?: string;
}) {
  return (
    <SelectFilter
      name="group"
      label="Group"
      anyLabel={props.anyLabel ?? 'All groups'}
      value={props.value}
      options={groupOptions(props.facets, props.value)}
      onChange={props.onChange}
    />
  );
}

export function TagSelect(props: {
  facets: HostFacets | undefined;
  value: string | undefined;
  onChange(v: string | undefined): void;
}) {
  return (
    <SelectFilter
      name="tag"
      label="Tag"
      anyLabel="Any tag"
      value={props.value}
      options={tagOptions(props.facets, props.value)}
      onChange={props.onChange}
    />
  );
}
