import { sql, type Kysely } from 'kysely'

/**
 * Whether a grant is one a rule or the agent classifier reads, computed by PostgreSQL for every
 * row, whoever writes it (docs/decisions/044). A scoring pass reads only these grants, and the
 * highest access level of all of them from the (identity_id, access_level) index.
 *
 * The condition is a superset of what the rules match; they apply their exact checks to what it
 * returns:
 * - every grant at the admin or permissions_management level (full admin, permission management);
 * - write grants whose resource contains a '*' (write actions on wildcard resources);
 * - actions that start with a prefix of one of the classifier's language-model patterns
 *   (LLM_ACTIONS in scoring/classification.ts).
 *
 * A property test (scoring/notable-entitlements.test.ts) fails if a rule or the classifier
 * decides differently on these grants than on all of them; a change there needs a new migration
 * that redefines this column.
 *
 * Frozen: later changes are new files.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    alter table entitlements add column notable boolean not null generated always as (
      access_level in ('admin', 'permissions_management')
      or (access_level = 'write' and strpos(resource, '*') > 0)
      or lower(action) like any (array['bedrock:%', 'bedrock-agentcore:%', 'sagemaker:invokeendpoint%',
        'microsoft.cognitiveservices/accounts/%', 'roles/aiplatform.%', 'aiplatform.endpoints.%',
        'model.request%', 'api.model.request%', 'openai:%'])
    ) stored`.execute(db)
}

export async function down(): Promise<void> {
  throw new Error('Leash migrations are forward-only.')
}
