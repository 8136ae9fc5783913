/**
 * The approval policy: which revocations are high impact, and which need a second person.
 *
 * High impact (any one is enough):
 *  - the identity holds admin or permissions-management rights (it can grant itself more,
 *    so revoking it is likely to break something important, and requesting it is a lever an
 *    insider could pull);
 *  - the identity is production (tags such as env=prod, or the environments the scan saw);
 *  - the request revokes more than one credential at once (the kill switch);
 *  - the action is destructive (deletes rather than deactivates).
 * With `revocation.approval_policy` = 'high_impact' (default) only high-impact requests need
 * approval; with 'always' every request does. Approval is always by a different person than
 * the requester and never by an API token (enforced in decide.ts, not here).
 */
import type { WorkflowSettings } from './settings.js'

export interface ImpactInput {
  maxAccessLevel: string | null
  tags: Record<string, string>
  environments: readonly string[]
  /** Credentials (or identity-level actions) revoked by this one request. */
  targetCount: number
  destructive: boolean
}

export interface ImpactAssessment {
  impact: 'normal' | 'high'
  reasons: string[]
  approvalRequired: boolean
}

export function productionTags(tags: Record<string, string>, settings: Pick<WorkflowSettings, 'revocation.environment_tag_keys' | 'revocation.production_tag_values'>): string[] {
  const keys = new Set(settings['revocation.environment_tag_keys'].map((k) => k.toLowerCase()))
  const values = new Set(settings['revocation.production_tag_values'].map((v) => v.toLowerCase()))
  return Object.entries(tags)
    .filter(([key, value]) => keys.has(key.toLowerCase()) && values.has(String(value).trim().toLowerCase()))
    .map(([key, value]) => `${key}=${value}`)
}

export function assessImpact(input: ImpactInput, settings: WorkflowSettings): ImpactAssessment {
  const reasons: string[] = []
  if (input.maxAccessLevel === 'admin') reasons.push('The identity has administrator rights.')
  else if (input.maxAccessLevel === 'permissions_management') reasons.push('The identity can manage permissions (it can grant rights).')
  const prodTags = productionTags(input.tags, settings)
  if (prodTags.length > 0) reasons.push(`The identity is tagged as production (${prodTags.join(', ')}).`)
  else if (input.environments.includes('production')) reasons.push('The identity is used in production.')
  if (input.targetCount > 1) reasons.push(`The request revokes ${input.targetCount} credentials or access paths at once.`)
  if (input.destructive) reasons.push('The action is destructive: it cannot be undone.')
  const impact = reasons.length > 0 ? 'high' : 'normal'
  const approvalRequired = settings['revocation.approval_policy'] === 'always' || impact === 'high'
  return { impact, reasons, approvalRequired }
}
