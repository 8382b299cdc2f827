import { benchGateway } from './gateway.ts';

// npm run bench: the gateway overhead benchmark (issue 2). Ratios are measured in one run because the
// machine is noisy; absolute numbers vary between runs.

await benchGateway();
