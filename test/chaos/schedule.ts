/**
 * The chaos tests' seeded random schedule: which part is killed in which order, after how long, for how long. The
 * same seed gives the same schedule (MAILFERRY_CHAOS_SEED replays a run; the test prints the seed it used).
 */
export interface Fault {
  part: string;
  /** Wait after the previous fault healed (or the batch started), before the SIGKILL. */
  afterMs: number;
  /** How long the part stays down before it is started again. */
  downMs: number;
}

/** mulberry32: a small seeded generator, enough to draw a schedule (not for anything secret). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One round: every part once, in a random order, each after 0.5–2.5 s and down for 0.5–3 s. */
export function faultRound(random: () => number, parts: string[]): Fault[] {
  const order = [...parts];
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order.map((part) => ({
    part,
    afterMs: 500 + Math.floor(random() * 2000),
    downMs: 500 + Math.floor(random() * 2500),
  }));
}

/** The seed of this run: MAILFERRY_CHAOS_SEED to replay one, else a new one. */
export function chaosSeed(env: NodeJS.ProcessEnv = process.env): number {
  const given = env.MAILFERRY_CHAOS_SEED;
  return given ? Number(given) : Math.floor(Math.random() * 2 ** 31);
}
