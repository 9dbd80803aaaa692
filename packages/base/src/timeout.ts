/**
 * `p`, or an error once `ms` have passed: a probe or a scrape must answer even while what it
 * asks (Redis) is away. `p` itself is not cancelled; its result is dropped.
 */
export async function within<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
