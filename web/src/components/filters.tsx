// Filter controls whose values live in the URL: text (applied after a pause in typing or on
// Enter) and selects (applied at once).
import { useEffect, useRef, useState } from 'preact/hooks';

export function TextFilter(props: {
  name: string;
  label: string;
  value: string | undefined;
  placeholder?: string;
  onChange(v: string | undefined): void;
  wide?: boolean;
}) {
  const [text, setText] = useState(props.value ?? '');
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  // The URL changed from elsewhere (back button, a link): show its value.
  useEffect(() => setText(props.value ?? ''), [props.value]);
  const commit = (v: string) => {
    clearTimeout(timer.current);
    const t = v.trim();
    if (t !== (props.value ?? '')) props.onChange(t || undefined);
  };
  return (
    <label class={props.wide ? 'filter wide' : 'filter'}>
      <span>{props.label}</span>
      <input
        type="search"
        name={props.name}
        value={text}
        placeholder={props.placeholder}
        onInput={(e) => {
          const v = e.currentTarget.value;
          setText(v);
          clearTimeout(timer.current);
          timer.current = setTimeout(() => commit(v), 350);
        }}
        onKeyDown={(e) => {
          if (e.key === 'Enter') commit(e.currentTarget.value);
        }}
      />
    </label>
  );
}

export function SelectFilter(props: {
  name: string;
  label: string;
  value: string | undefined;
  options: [string, string][];
  onChange(v: string | undefined): void;
  anyLabel?: string;
}) {
  return (
    <label class="filter">
      <span>{props.label}</span>
      <select
        name={props.name}
        value={props.value ?? ''}
        onChange={(e) => props.onChange(e.currentTarget.value || undefined)}
      >
        <option value="">{props.anyLabel ?? 'Any'}</option>
        {props.options.map(([v, l]) => (
          <option key={v} value={v}>
            {l}
          </option>
        ))}
      </select>
    </label>
  );
}
