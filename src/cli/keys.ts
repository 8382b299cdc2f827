import { parseArgs } from 'node:util';

// `switchyard keys`: manage virtual keys through a running gateway's admin API.

export const KEYS_HELP = `switchyard keys: manage virtual API keys through the admin API

Usage:
  switchyard keys create [--name N] [--tenant T] [--team T] [--user U] [--models a,b]
                         [--priority critical|standard|sheddable] [--expires ISO-TIME]
                         [--rpm N] [--tpm N] [--tokens-per-day N] [--usd-per-month N]
  switchyard keys list [--tenant T] [--team T] [--all]
  switchyard keys revoke ID
  switchyard keys usage [--key ID] [--team T] [--tenant T] [--group-by key|team|tenant|model]

Common options:
  --url URL      the gateway (default http://127.0.0.1:8080, or SWITCHYARD_URL)
  --token T      the admin token (default SWITCHYARD_ADMIN_TOKEN)

The secret of a new key is printed once; only its hash is stored.
`;

const options = {
  url: { type: 'string' },
  token: { type: 'string' },
  name: { type: 'string' },
  tenant: { type: 'string' },
  team: { type: 'string' },
  user: { type: 'string' },
  models: { type: 'string' },
  priority: { type: 'string' },
  expires: { type: 'string' },
  rpm: { type: 'string' },
  tpm: { type: 'string' },
  'tokens-per-day': { type: 'string' },
  'usd-per-month': { type: 'string' },
  key: { type: 'string' },
  'group-by': { type: 'string' },
  all: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

function createBody(v: Record<string, string | boolean | undefined>): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  for (const k of ['name', 'tenant', 'team', 'user', 'priority'] as const)
    if (typeof v[k] === 'string') body[k] = v[k];
  if (typeof v.models === 'string') body.models = v.models.split(',').filter(Boolean);
  if (typeof v.expires === 'string') body.expires_at = v.expires;
  const limits: Record<string, unknown>[] = [];
  if (typeof v.rpm === 'string') limits.push({ requests: Number(v.rpm), window: '1m' });
  if (typeof v.tpm === 'string') limits.push({ tokens: Number(v.tpm), window: '1m' });
  if (limits.length > 0) body.limits = limits;
  const budgets: Record<string, unknown>[] = [];
  if (typeof v['tokens-per-day'] === 'string')
    budgets.push({ tokens: Number(v['tokens-per-day']), window: 'day' });
  if (typeof v['usd-per-month'] === 'string')
    budgets.push({ usd: Number(v['usd-per-month']), window: 'month' });
  if (budgets.length > 0) body.budgets = budgets;
  return body;
}

export async function runKeys(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    options,
    allowPositionals: true,
    strict: true,
  });
  const [action, id] = positionals;
  if (values.help === true || action === undefined) {
    process.stdout.write(KEYS_HELP);
    return action === undefined && values.help !== true ? 2 : 0;
  }
  const base = (values.url ?? process.env.SWITCHYARD_URL ?? 'http://127.0.0.1:8080').replace(/\/$/, '');
  const token = values.token ?? process.env.SWITCHYARD_ADMIN_TOKEN ?? '';
  if (token === '') {
    process.stderr.write('switchyard keys: give the admin token with --token or SWITCHYARD_ADMIN_TOKEN\n');
    return 2;
  }
  const call = async (method: string, path: string, body?: unknown): Promise<unknown> => {
    const res = await fetch(`${base}/admin${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const json: unknown = await res.json();
    if (!res.ok) throw new Error(`${res.status}: ${JSON.stringify(json)}`);
    return json;
  };
  const q = new URLSearchParams();
  for (const k of ['tenant', 'team'] as const) if (values[k] !== undefined) q.set(k, values[k]);
  let out: unknown;
  switch (action) {
    case 'create':
      out = await call('POST', '/keys', createBody(values));
      break;
    case 'list':
      if (values.all === true) q.set('include_revoked', 'true');
      out = await call('GET', `/keys?${q.toString()}`);
      break;
    case 'revoke':
      if (id === undefined) throw new Error('switchyard keys revoke ID');
      out = await call('POST', `/keys/${encodeURIComponent(id)}/revoke`);
      break;
    case 'usage':
      if (values.key !== undefined) q.set('key', values.key);
      if (values['group-by'] !== undefined) q.set('group_by', values['group-by']);
      out = await call('GET', `/usage?${q.toString()}`);
      break;
    default:
      process.stderr.write(`switchyard keys: unknown action '${action}'\n\n${KEYS_HELP}`);
      return 2;
  }
  process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  return 0;
}
