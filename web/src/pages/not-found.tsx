import { Empty, PageHeader } from '../components/ui.tsx';

export function NotFound() {
  return (
    <>
      <PageHeader title="Not found" />
      <Empty title="There is no page at this address.">
        Go to the <a href="/">overview</a>.
      </Empty>
    </>
  );
}
