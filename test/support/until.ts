// Waiting for something another process or thread does: polls `ready` until it holds, and gives
// up after a minute naming what it waited for (a wait, never an assertion on time).
export async function until(ready: () => boolean | Promise<boolean>, what: string, pollMs = 25): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!(await ready())) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}
