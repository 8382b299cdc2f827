import type { GovernancePolicyServices, GovernanceServices } from '../../contracts/governance.ts';
import type { PolicyServices } from '../../contracts/policy.ts';

// Governance policies take their shared services from PolicyServices.governance (set by the gateway
// when the config has a `governance:` section).

export function governanceOf(services: PolicyServices, policy: string): GovernanceServices {
  const governance = (services as PolicyServices & GovernancePolicyServices).governance;
  if (governance === undefined) {
    throw new Error(`policy ${policy} needs the governance services (configure the governance section)`);
  }
  return governance;
}
