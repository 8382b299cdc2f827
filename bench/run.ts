import { benchGateway } from './gateway.ts';
import { benchGovernance } from './governance.ts';

// npm run bench: gateway overhead (issue 2) and governance overhead (issue 6). Ratios are measured in one run because the
// machine is noisy; absolute numbers vary between runs.

await benchGateway();
await benchGovernance();
