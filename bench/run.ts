import { benchGateway } from './gateway.ts';
import { benchGovernance } from './governance.ts';
import { benchTranslation } from './translation.ts';

// npm run bench: translation overhead (issue 4), gateway overhead (issue 2), governance overhead (issue 6). Ratios are measured in one run because the
// machine is noisy; absolute numbers vary between runs.

benchTranslation();
await benchGateway();
await benchGovernance();
