/**
 * Polls `check` every 250 ms until it returns a value other than undefined, and returns that value; throws,
 * naming `what`, once `ms` have passed (for services outside the process, such as Prometheus).
 */
export async function until<T>(what: string, ms: number, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
