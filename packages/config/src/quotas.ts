import { QUOTA_NAMES, type QuotaName } from '@synthline/spec';

export { QUOTA_NAMES, type QuotaName };
/** Per-key quota overrides, by key name. */
export type QuotaOverrides = Record<string, Partial<Record<QuotaName, number>>>;

/** Parses SYNTHLINE_QUOTAS: `name:quota=value,...` entries separated by `;` or newlines. */
export function parseQuotaOverrides(text: string): QuotaOverrides {
  const out: QuotaOverrides = {};
  for (const raw of text.split(/[;\n]/)) {
    const entry = raw.trim();
    if (!entry) continue;
    const m = /^([A-Za-z0-9_.-]{1,64}):(.+)$/.exec(entry);
    if (!m) throw new Error(`"${entry.slice(0, 40)}" is not "keyname:quota=value,..."`);
    const q: Partial<Record<QuotaName, number>> = {};
    for (const part of (m[2] as string).split(',')) {
      const [name, value] = part.split('=').map((x) => x.trim());
      if (!QUOTA_NAMES.includes(name as QuotaName)) throw new Error(`unknown quota "${name}" (quotas: ${QUOTA_NAMES.join(', ')})`);
      const n = Number(value);
      if (!value || !Number.isFinite(n) || n < 0) throw new Error(`${name}: "${value ?? ''}" is not a number >= 0`);
      q[name as QuotaName] = n;
    }
    out[m[1] as string] = q;
  }
  return out;
}
