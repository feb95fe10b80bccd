// The policy editor's checks (the YAML reader and the policy schema, most of the editor's code)
// load when a policy page opens, not with the dashboard.
import { useEffect, useState } from 'preact/hooks';

export type PolicyText = typeof import('./policy-yaml.ts');

let loading: Promise<PolicyText> | null = null;

/** The module once loaded (null until then); an error when it cannot be loaded. */
export function usePolicyText(): { mod: PolicyText | null; error: Error | null } {
  const [state, setState] = useState<{ mod: PolicyText | null; error: Error | null }>({ mod: null, error: null });
  useEffect(() => {
    loading ??= import('./policy-yaml.ts');
    loading.then(
      (mod) => setState({ mod, error: null }),
      (error: Error) => {
        loading = null;
        setState({ mod: null, error });
      },
    );
  }, []);
  return state;
}
