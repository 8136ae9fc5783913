/**
 * A realistic estate for the dashboard, written straight into PostgreSQL with set-based SQL
 * (generate_series), so the same code seeds 300 identities for a browser test and 1,000,000
 * for the benchmark.
 *
 * Skew like real estates: few providers (AWS half of everything), many accounts, ~30% agents,
 * three credentials and ten entitlements per identity, findings derived from the data (no
 * owner, admin rights, old keys, unused), 30 days of scan history and posture snapshots.
 * Deterministic: the same N gives the same rows.
 *
 * A few hand-made "showcase" identities with known names and values sit on top, for tests
 * to assert against.
 */
import { createHash, randomBytes } from 'node:crypto'
import { sql, type Kysely, type RawBuilder } from 'kysely'
import { json } from '../../db/connection.js'
import { rulesById } from '../../scoring/rules/index.js'
import { takePostureSnapshot } from '../../scoring/snapshots.js'
import type { Database, Role } from '../../db/schema.js'

export interface SeedSource {
  id: string
  name: string
  provider: string
}

export interface DashboardSeed {
  identities: number
  sources: Record<string, SeedSource>
  /** The seed's "now": today's snapshot carries this time. */
  takenAt: Date
  showcase: {
    orphanAgent: number
    copilotBot: number
    ownedRole: number
  }
}

/** Provider mix by `g % 100`: [from, to) → source. */
const SOURCES = [
  { name: 'aws-production', provider: 'aws', from: 0, to: 40, schedule: '0 */6 * * *' },
  { name: 'aws-sandbox', provider: 'aws', from: 40, to: 50, schedule: '0 */12 * * *' },
  { name: 'entra-contoso', provider: 'azure', from: 50, to: 70, schedule: '30 */6 * * *' },
  { name: 'gcp-analytics', provider: 'gcp', from: 70, to: 85, schedule: '15 */6 * * *' },
  { name: 'github-acme', provider: 'github', from: 85, to: 93, schedule: '0 * * * *' },
  { name: 'openai-org', provider: 'openai', from: 93, to: 97, schedule: '0 3 * * *' },
  { name: 'vault-core', provider: 'vault', from: 97, to: 100, schedule: '45 */6 * * *' },
] as const

const DAY = 86_400_000

/** A timestamp as the scoring rules write it into evidence (Date#toISOString). */
const isoText = (value: RawBuilder<unknown>) => sql`to_char((${value}) at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`
const SEEDED_RULES = [
  'ownership_identity_no_owner',
  'ownership_owner_inactive',
  'privilege_identity_full_admin',
  'privilege_identity_permissions_management',
  'credential_age_secret_too_old',
  'monitoring_identity_unused',
  'monitoring_identity_no_last_used_data',
] as const
/** Marks the estate-wide snapshots this seed wrote, so removeDashboardSeed can find them. */
const SEED_MARKER = 'dashboard-seed'

/** Seeds the estate. Expects an empty, migrated database (the sources' names must be free). */
export async function seedDashboard(db: Kysely<Database>, options: { identities: number; now?: Date; log?: (line: string) => void }): Promise<DashboardSeed> {
  const n = Math.max(0, Math.floor(options.identities))
  const now = options.now ?? new Date()
  const log = options.log ?? (() => {})
  const showcaseCount = 3
  const generated = Math.max(0, n - showcaseCount)

  const sources: Record<string, SeedSource> = {}
  for (const source of SOURCES) {
    const row = await db
      .insertInto('sources')
      .values({
        name: source.name,
        provider: source.provider,
        schedule: source.schedule,
        settings: json({ seeded: true }),
        origin: 'config',
      })
      .returning(['id', 'name', 'provider'])
      .executeTakeFirstOrThrow()
    sources[source.name] = row
  }

  const mine = sql.join(Object.values(sources).map((s) => s.id))

  // 30 days of scan history per source: daily runs, the latest of github failed, of gcp partial; vault is scanning now.
  const runRows = await sql<{ id: string; source_id: string; day: number }>`
    insert into scan_runs (source_id, status, trigger, queued_at, started_at, finished_at, identities_seen, credentials_seen,
                           entitlements_seen, identities_new, api_calls, errors)
    select s.id,
           case when d = 0 and s.name = 'github-acme' then 'failed'
                when d = 0 and s.name = 'gcp-analytics' then 'partial' else 'succeeded' end,
           case when d = 0 then 'manual' else 'schedule' end,
           ${now}::timestamptz - make_interval(days => d, mins => 20),
           ${now}::timestamptz - make_interval(days => d, mins => 19),
           ${now}::timestamptz - make_interval(days => d, mins => 5),
           0, 0, 0, 0, 40 + d,
           case when d = 0 and s.name = 'github-acme' then ${json([
             {
               scope: 'acme',
               operation: 'GET /orgs/acme/installations',
               permission: 'Organization administration: read',
               message: 'GitHub refused the token: Bad credentials (401).',
               remedy: 'The token in GITHUB_TOKEN has expired or was revoked. Create a new fine-grained token with "Organization administration: read" and restart Leash.',
               fatalForScope: true,
             },
           ])}::jsonb
                when d = 0 and s.name = 'gcp-analytics' then ${json([
                  {
                    scope: 'analytics-prod-4411',
                    operation: 'policyanalyzer.activities.query',
                    permission: 'policyanalyzer.serviceAccountKeyLastAuthenticationActivities.query',
                    message: 'Policy Analyzer denied access, so last-use data for keys in analytics-prod-4411 is unknown.',
                    remedy: 'Grant roles/policyanalyzer.activityAnalysisViewer to the scanning service account on the project.',
                    fatalForScope: false,
                  },
                ])}::jsonb
                else '[]'::jsonb end
      from sources s cross join generate_series(0, 29) as d
     where s.id in (${sql.join(Object.values(sources).map((s) => s.id))})
    returning id, source_id, (extract(epoch from (${now}::timestamptz - queued_at)) / 86400)::int as day`.execute(db)
  const latestRun = new Map<string, string>()
  for (const run of runRows.rows) if (run.day === 0) latestRun.set(run.source_id, run.id)
  await db
    .insertInto('scan_runs')
    .values({
      source_id: sources['vault-core']!.id,
      status: 'running',
      trigger: 'schedule',
      queued_at: new Date(now.getTime() - 120_000),
      started_at: new Date(now.getTime() - 110_000),
      heartbeat_at: new Date(now.getTime() - 5_000),
      identities_seen: 1200,
      api_calls: 18,
    })
    .execute()

  const sourceCase = sql.raw(
    `case ${SOURCES.map((s) => `when g % 100 < ${s.to} then '${sources[s.name]!.id}'::uuid`).join(' ')} end`,
  )
  const providerCase = sql.raw(`case ${SOURCES.map((s) => `when g % 100 < ${s.to} then '${s.provider}'`).join(' ')} end`)

  log(`seeding ${generated.toLocaleString('en')} identities …`)
  // Identities: h is a deterministic hash per row; every attribute derives from it.
  // One statement writes both tables (docs/decisions/043): the rows get their ids first, so the
  // record and the posture row of each share it.
  await sql`
    with generated (source_id, provider, kind, external_id, display_name, account_id, tags, console_url, created_at,
      last_used_at, last_used_known, status, classified_is_agent, agent_confidence, agent_platform, agent_reasons, is_agent,
      owner_ref, owner_kind, owner_source, owner_status, risk_score, score_ownership, score_privilege, score_credential_age,
      score_monitoring, max_access_level, credential_count, oldest_credential_at, needs_scoring, first_seen_at, last_seen_at,
      last_seen_scan_id) as (
    select source_id, provider, kind,
           case provider when 'aws' then 'arn:aws:iam::' || account_id || ':' || case kind when 'role' then 'role/' else 'user/' end || name
                         else provider || ':' || account_id || ':' || name end,
           name, account_id,
           jsonb_build_object('team', team, 'env', case when h % 3 = 0 then 'dev' else 'prod' end),
           case provider when 'aws' then 'https://console.aws.amazon.com/iam/home#/' || case kind when 'role' then 'roles/details/' else 'users/details/' end || name
                         when 'azure' then 'https://entra.microsoft.com/#view/Microsoft_AAD_IAM/ManagedAppMenuBlade/~/Overview/objectId/' || md5(g::text)
                         when 'gcp' then 'https://console.cloud.google.com/iam-admin/serviceaccounts?project=' || account_id
                         when 'github' then 'https://github.com/organizations/acme/settings/installations'
                         else null end,
           ${now}::timestamptz - make_interval(days => 30 + (h % 900)),
           case when h % 10 = 0 then null else ${now}::timestamptz - make_interval(days => (h / 7) % 400, hours => h % 24) end,
           h % 10 <> 0,
           case when h % 97 = 0 then 'disabled' else 'active' end,
           is_agent, case when is_agent then 0.55 + (h % 45) / 100.0 else (h % 20) / 100.0 end,
           platform,
           case when is_agent then jsonb_build_array(
             jsonb_build_object('id', provider || '.signal.' || coalesce(platform, 'name'), 'platform', platform, 'weight', 0.6,
                                'reason', case provider when 'aws' then 'Trust policy admits bedrock.amazonaws.com'
                                                        when 'azure' then 'Created from an Entra Agent ID blueprint'
                                                        when 'gcp' then 'Bound to the Vertex AI Agent Engine service agent'
                                                        when 'github' then 'GitHub App is a coding agent (Copilot)'
                                                        when 'openai' then 'Every OpenAI API key is an AI credential'
                                                        else 'Name and tags mention an agent' end),
             jsonb_build_object('id', 'naming.agent', 'platform', null, 'weight', 0.25, 'reason', 'Name contains "agent" or "bot"'))
           else '[]'::jsonb end,
           is_agent,
           owner_ref, case when owner_ref is null then null when owner_ref like 'team-%' then 'team' else 'person' end,
           case when owner_ref is null then null when h % 5 = 0 then 'provider' else 'tag' end,
           owner_status,
           least(100, risk)::smallint, own_score::smallint, priv_score::smallint, age_score::smallint, mon_score::smallint,
           access, 3,
           ${now}::timestamptz - make_interval(days => (h / 3) % 800),
           false,
           ${now}::timestamptz - make_interval(days => 30), ${now}::timestamptz,
           null::uuid
      from (
        select g, h, source_id, provider, kind, is_agent, platform, account_id, team, owner_status, access,
               case owner_status when 'valid' then 'person' || (h % 180) || '@acme.example' when 'invalid' then 'former' || (h % 40) || '@acme.example'
                                 when 'unknown' then 'team-' || team else null end as owner_ref,
               lower(case when is_agent then coalesce(platform, 'ai') || '-agent-' else
                 case kind when 'role' then 'svc-role-' when 'user' then 'svc-user-' when 'service_account' then 'sa-' else replace(kind, '_', '-') || '-' end end
                 || team || '-' || lpad(g::text, 8, '0')) as name,
               (case owner_status when 'none' then 30 when 'invalid' then 25 else 0 end)
                 + (case access when 'admin' then 35 when 'permissions_management' then 25 when 'write' then 12 else 0 end)
                 + (case when (h / 3) % 800 > 90 then 15 else 0 end)
                 + (case when h % 10 = 0 or (h / 7) % 400 > 90 then 10 else 0 end)
                 + (case when is_agent then 8 else 0 end) + (h % 7) as risk,
               case owner_status when 'none' then 80 when 'invalid' then 70 when 'unknown' then 30 else 0 end as own_score,
               case access when 'admin' then 95 when 'permissions_management' then 75 when 'write' then 40 else 5 end as priv_score,
               case when (h / 3) % 800 > 365 then 85 when (h / 3) % 800 > 90 then 55 else 5 end as age_score,
               case when h % 10 = 0 then 60 when (h / 7) % 400 > 90 then 50 else 0 end as mon_score
          from (
            select g, h, ${sourceCase} as source_id, ${providerCase} as provider,
                   case ${providerCase}
                     when 'aws' then case when h % 5 < 3 then 'role' else 'user' end
                     when 'azure' then case when h % 4 = 0 then 'managed_identity' when h % 4 = 1 then 'agent_identity' else 'service_principal' end
                     when 'gcp' then 'service_account'
                     when 'github' then case when h % 3 = 0 then 'app_installation' when h % 3 = 1 then 'deploy_key' else 'token' end
                     when 'openai' then 'api_key'
                     else case when h % 2 = 0 then 'token' else 'application' end end as kind,
                   (${providerCase} = 'openai') or (h % 100 < 27) as is_agent,
                   case when not ((${providerCase} = 'openai') or (h % 100 < 27)) then null else
                     case ${providerCase} when 'aws' then case when h % 5 = 0 then 'sagemaker' when h % 5 = 1 then 'bedrock_agentcore' else 'bedrock' end
                       when 'azure' then case when h % 3 = 0 then 'azure_openai' else 'entra_agent_id' end
                       when 'gcp' then 'vertex_ai' when 'github' then 'github_copilot' when 'openai' then 'openai' else 'other_ai' end end as platform,
                   case ${providerCase}
                     when 'aws' then lpad(((h % 600) * 7919 + 100000000000)::text, 12, '0')
                     when 'azure' then 'tenant-' || (h % 3)
                     when 'gcp' then 'analytics-' || case when h % 2 = 0 then 'prod' else 'dev' end || '-' || (4400 + h % 40)
                     when 'github' then 'acme' when 'openai' then 'org-acme-' || (h % 5) else 'vault-core' end as account_id,
                   (array['payments','platform','data','search','support','growth','infra','security','ml','billing'])[1 + h % 10] as team,
                   case when h % 20 < 12 then 'valid' when h % 20 < 14 then 'invalid' when h % 20 < 19 then 'none' else 'unknown' end as owner_status,
                   case when h % 50 < 3 then 'admin' when h % 50 < 7 then 'permissions_management' when h % 50 < 25 then 'write' when h % 50 < 45 then 'read' else 'list' end as access
              from (select g, (hashint4(g)::bigint & 2147483647)::int as h from generate_series(1, ${generated}::int) as g) as series
          ) as base
      ) as rows),
    numbered as materialized (select nextval('identities_id_seq'::regclass) as id, generated.* from generated),
    records as (
      insert into identity_records (id, source_id, provider, kind, external_id, display_name, account_id, tags, console_url, created_at,
        last_used_at, last_used_known, status, agent_reasons, first_seen_at, last_seen_at, last_seen_scan_id)
      overriding system value
      select id, source_id, provider, kind, external_id, display_name, account_id, tags, console_url, created_at,
        last_used_at, last_used_known, status, agent_reasons, first_seen_at, last_seen_at, last_seen_scan_id
        from numbered)
    insert into identity_posture (identity_id, provider, classified_is_agent, agent_confidence, agent_platform, is_agent,
      owner_ref, owner_kind, owner_source, owner_status, risk_score, score_ownership, score_privilege, score_credential_age,
      score_monitoring, max_access_level, credential_count, oldest_credential_at, needs_scoring)
    select id, provider, classified_is_agent, agent_confidence, agent_platform, is_agent,
      owner_ref, owner_kind, owner_source, owner_status, risk_score, score_ownership, score_privilege, score_credential_age,
      score_monitoring, max_access_level, credential_count, oldest_credential_at, needs_scoring
      from numbered`.execute(db)

  // Showcase identities with known names and values.
  const aws = sources['aws-production']!
  const github = sources['github-acme']!
  const showcase = await db
    .insertInto('identities')
    .values([
      {
        source_id: aws.id,
        provider: 'aws',
        kind: 'role',
        external_id: 'arn:aws:iam::123456789012:role/bedrock-support-agent',
        display_name: 'bedrock-support-agent',
        account_id: '123456789012',
        tags: json({ Name: 'support agent', 'created-by': 'dana@acme.example', env: 'prod' }),
        console_url: 'https://console.aws.amazon.com/iam/home#/roles/details/bedrock-support-agent',
        created_at: new Date(now.getTime() - 500 * DAY),
        last_used_at: new Date(now.getTime() - 2 * DAY),
        last_used_known: true,
        classified_is_agent: true,
        agent_confidence: 0.92,
        agent_platform: 'bedrock',
        agent_reasons: json([
          { id: 'aws.trust.bedrock', platform: 'bedrock', weight: 0.7, reason: 'Trust policy admits bedrock.amazonaws.com' },
          { id: 'naming.agent', platform: null, weight: 0.2, reason: 'Name contains "agent"' },
        ]),
        is_agent: true,
        owner_status: 'none',
        risk_score: 97,
        score_ownership: 90,
        score_privilege: 100,
        score_credential_age: 85,
        score_monitoring: 10,
        max_access_level: 'admin',
        credential_count: 1,
        oldest_credential_at: new Date(now.getTime() - 412 * DAY),
        needs_scoring: false,
      },
      {
        source_id: github.id,
        provider: 'github',
        kind: 'app_installation',
        external_id: 'github:acme:installation/55501',
        display_name: 'copilot-deploy-bot',
        account_id: 'acme',
        tags: json({ owner: 'team-platform' }),
        created_at: new Date(now.getTime() - 200 * DAY),
        last_used_at: null,
        last_used_known: false,
        classified_is_agent: true,
        agent_confidence: 0.81,
        agent_platform: 'github_copilot',
        agent_reasons: json([{ id: 'github.app.copilot', platform: 'github_copilot', weight: 0.8, reason: 'GitHub App is a coding agent (Copilot)' }]),
        is_agent: true,
        owner_ref: 'former-erin@acme.example',
        owner_kind: 'person',
        owner_source: 'provider',
        owner_status: 'invalid',
        risk_score: 88,
        score_ownership: 70,
        score_privilege: 75,
        score_credential_age: 40,
        score_monitoring: 60,
        max_access_level: 'write',
        credential_count: 1,
        oldest_credential_at: new Date(now.getTime() - 200 * DAY),
        needs_scoring: false,
      },
      {
        source_id: aws.id,
        provider: 'aws',
        kind: 'role',
        external_id: 'arn:aws:iam::123456789012:role/ci-deploy-role',
        display_name: 'ci-deploy-role',
        account_id: '123456789012',
        tags: json({ owner: 'alice@acme.example', env: 'prod' }),
        created_at: new Date(now.getTime() - 300 * DAY),
        last_used_at: new Date(now.getTime() - 1 * DAY),
        last_used_known: true,
        is_agent: false,
        owner_ref: 'alice@acme.example',
        owner_kind: 'person',
        owner_source: 'tag',
        owner_status: 'valid',
        risk_score: 22,
        score_privilege: 40,
        max_access_level: 'write',
        credential_count: 0,
        needs_scoring: false,
      },
    ])
    .returning(['id', 'display_name'])
    .execute()
  const showcaseId = (name: string) => showcase.find((row) => row.display_name === name)!.id
  const orphanAgent = showcaseId('bedrock-support-agent')
  const copilotBot = showcaseId('copilot-deploy-bot')
  const ownedRole = showcaseId('ci-deploy-role')

  log('seeding credentials …')
  // Three credentials per generated identity (the showcase ones get their own below).
  await sql`
    insert into credentials (identity_id, external_id, type, status, created_at, expires_at, last_used_at, last_used_known,
                             last_rotated_at, rotation_enabled, is_static)
    select i.id,
           case i.provider when 'aws' then 'AKIA' || upper(substr(md5(i.id::text || '-' || k), 1, 16))
                           else i.provider || '-key-' || substr(md5(i.id::text || '-' || k), 1, 20) end,
           case i.provider when 'aws' then 'access_key' when 'azure' then 'client_secret' when 'gcp' then 'service_account_key'
                           when 'github' then 'token' when 'openai' then 'api_key' else 'token' end,
           case when k = 3 and i.id % 4 = 0 then 'inactive' else 'active' end,
           i.oldest_credential_at + make_interval(days => (k - 1) * ((i.id % 60)::int)),
           case when i.id % 3 = 0 then null else i.oldest_credential_at + interval '730 days' end,
           case when k = 1 then i.last_used_at else null end,
           k = 1 and i.last_used_known,
           null, i.id % 5 = 0, true
      from (select * from identities where source_id in (${mine})) as i cross join generate_series(1, 3) as k
     where i.id not in (${orphanAgent}, ${copilotBot}, ${ownedRole})`.execute(db)
  await db
    .insertInto('credentials')
    .values([
      {
        identity_id: orphanAgent,
        external_id: 'AKIAEXAMPLESHOWCASE1',
        type: 'access_key',
        created_at: new Date(now.getTime() - 412 * DAY),
        last_used_at: new Date(now.getTime() - 2 * DAY),
        last_used_known: true,
        rotation_enabled: false,
      },
      {
        identity_id: copilotBot,
        external_id: 'github-installation-token-55501',
        type: 'token',
        created_at: new Date(now.getTime() - 200 * DAY),
        last_used_known: false,
      },
    ])
    .execute()

  log('seeding entitlements …')
  await sql`
    insert into entitlements (identity_id, action, resource, access_level, source_kind, source_ref, conditional)
    select i.id,
           case i.provider when 'aws' then (array['s3:GetObject','s3:ListBucket','s3:PutObject','iam:PassRole','bedrock:InvokeModel','lambda:InvokeFunction','kms:Decrypt','logs:PutLogEvents','iam:CreateAccessKey','*'])[k]
                           when 'azure' then (array['User.Read.All','Directory.Read.All','Files.ReadWrite.All','Mail.Send','Application.ReadWrite.All','Sites.Read.All','Group.Read.All','AuditLog.Read.All','RoleManagement.ReadWrite.Directory','Directory.ReadWrite.All'])[k]
                           else i.provider || '.permission.' || k end,
           case when k = 10 and i.max_access_level = 'admin' then '*' else 'arn:aws:s3:::bucket-' || (i.id % 1000) || '/*' end,
           case when k = 10 then coalesce(i.max_access_level, 'read') when k <= 4 then 'read' when k <= 6 then 'list' when k <= 8 then 'write' else 'tagging' end,
           case when k % 3 = 0 then 'inline_policy' when k % 3 = 1 then 'managed_policy' else 'role_assignment' end,
           case when k % 3 = 0 then 'inline/agent-runtime' when k % 3 = 1 then 'policy/' || (array['ReadOnlyAccess','AdministratorAccess','AmazonBedrockFullAccess','PowerUserAccess'])[1 + (i.id % 4)] else 'assignment/' || (i.id % 50) end,
           k = 7
      from (select * from identities where source_id in (${mine})) as i cross join generate_series(1, 10) as k`.execute(db)

  log('seeding owners and findings …')
  await sql`
    insert into identity_owners (identity_id, owner_ref, role, kind, source, display_name, active, can_add_credentials)
    select id, owner_ref, 'owner', coalesce(owner_kind, 'person'), coalesce(owner_source, 'tag'), owner_ref, owner_status = 'valid', id % 7 = 0
      from (select * from identities where source_id in (${mine})) as identities where owner_ref is not null`.execute(db)
  await sql`
    insert into identity_owners (identity_id, owner_ref, role, kind, source, display_name, active)
    select id, 'person' || (id % 180) || '@acme.example', case when id % 2 = 0 then 'creator' else 'last_user' end, 'person', 'inferred', null, true
      from (select * from identities where source_id in (${mine})) as identities where owner_status in ('none', 'invalid') and id % 3 <> 0 and id not in (${orphanAgent}, ${copilotBot}, ${ownedRole})`.execute(db)
  await db
    .insertInto('identity_owners')
    .values([
      { identity_id: orphanAgent, owner_ref: 'dana@acme.example', role: 'creator', kind: 'person', source: 'provider', display_name: 'Dana Kim', active: true },
      { identity_id: orphanAgent, owner_ref: 'sam@acme.example', role: 'last_user', kind: 'person', source: 'inferred', display_name: 'Sam Patel', active: true },
      { identity_id: copilotBot, owner_ref: 'former-erin@acme.example', role: 'owner', kind: 'person', source: 'provider', display_name: 'Erin (left)', active: false },
    ])
    .onConflict((oc) => oc.doNothing())
    .execute()

  // Findings derived from the data, the way the rules would raise them.
  const catalogue = sql.join(
    SEEDED_RULES.map((id) => {
      const rule = rulesById.get(id)
      if (!rule) throw new Error(`The dashboard seed uses rule ${id}, which is not in scoring/rules.`)
      return sql`(${id}, ${rule.dimension}, ${rule.severity}, ${rule.nhi})`
    }),
  )
  await sql`
    insert into findings (identity_id, rule_id, dimension, severity, nhi, status, evidence, first_seen_at, last_seen_at)
    select id, derived.rule_id, catalogue.dimension, catalogue.severity, catalogue.nhi, 'open', evidence,
           ${now}::timestamptz - make_interval(days => (id % 60)::int), ${now}::timestamptz from (
      select id, 'ownership_identity_no_owner' as rule_id, 'ownership' as dimension, case when is_agent then 'high' else 'medium' end as severity, 'NHI1' as nhi,
             jsonb_build_object('ownerSources', jsonb_build_array('tags', 'provider')) as evidence
        from (select * from identities where source_id in (${mine})) as identities where owner_status = 'none'
      union all
      select id, 'ownership_owner_inactive', 'ownership', 'high', 'NHI1', jsonb_build_object('owner', owner_ref, 'reason', 'The owner account is disabled')
        from (select * from identities where source_id in (${mine})) as identities where owner_status = 'invalid'
      union all
      select id, 'privilege_identity_full_admin', 'privilege', 'critical', 'NHI5', jsonb_build_object('action', '*', 'resource', '*', 'policy', 'AdministratorAccess')
        from (select * from identities where source_id in (${mine})) as identities where max_access_level = 'admin'
      union all
      select id, 'privilege_identity_permissions_management', 'privilege', 'high', 'NHI5', jsonb_build_object('actions', jsonb_build_array('iam:CreateAccessKey', 'iam:PassRole'))
        from (select * from identities where source_id in (${mine})) as identities where max_access_level = 'permissions_management'
      union all
      select id, 'credential_age_secret_too_old', 'credential_age', case when oldest_credential_at < ${now}::timestamptz - interval '365 days' then 'high' else 'medium' end, 'NHI7',
             jsonb_build_object('createdAt', ${isoText(sql`oldest_credential_at`)}, 'limitDays', 90, 'overLimitSince', ${isoText(sql`oldest_credential_at + interval '91 days'`)})
        from (select * from identities where source_id in (${mine})) as identities where oldest_credential_at < ${now}::timestamptz - interval '90 days'
      union all
      select id, 'monitoring_identity_unused', 'monitoring', 'low', 'NHI1', jsonb_build_object('lastUsedAt', ${isoText(sql`last_used_at`)}, 'limitDays', 90, 'overLimitSince', ${isoText(sql`last_used_at + interval '91 days'`)})
        from (select * from identities where source_id in (${mine})) as identities where last_used_at < ${now}::timestamptz - interval '90 days'
      union all
      select id, 'monitoring_identity_no_last_used_data', 'monitoring', 'info', null, jsonb_build_object('reason', 'The provider reports no last-used time')
        from (select * from identities where source_id in (${mine})) as identities where not last_used_known
    ) as derived
    -- Dimension, severity and NHI item come from the rule catalogue, as the scoring engine writes them.
    join (values ${catalogue}) as catalogue (rule_id, dimension, severity, nhi) on catalogue.rule_id = derived.rule_id`.execute(db)
  // Some findings resolved over the last weeks (mean time to remediate).
  await sql`
    insert into findings (identity_id, rule_id, dimension, severity, nhi, status, evidence, first_seen_at, last_seen_at, resolved_at)
    select id, 'credential_age_identity_multiple_active_keys', 'credential_age', 'medium', 'NHI7', 'resolved', '{}'::jsonb,
           ${now}::timestamptz - make_interval(days => 20 + (id % 40)::int), ${now}::timestamptz - make_interval(days => (id % 20)::int),
           ${now}::timestamptz - make_interval(days => (id % 20)::int)
      from (select * from identities where source_id in (${mine})) as identities where id % 17 = 0`.execute(db)
  await sql`
    insert into identity_scores (identity_id, risk_score, breakdown, computed_at)
    select i.id, i.risk_score,
           -- The layout the scoring pass writes (scoring/breakdown.ts, layout 2).
           jsonb_build_object('layout', 2, 'version', 1, 'risk', i.risk_score,
             'dimensions', jsonb_build_array(i.score_ownership, i.score_privilege, i.score_credential_age, i.score_monitoring),
             'exposure', jsonb_build_array(i.max_access_level, i.is_agent, 1),
             'findings', coalesce((select jsonb_agg(jsonb_build_array(f.rule_id, f.subject_key,
                                    i.risk_score / greatest(1, i.open_count),
                                    case f.dimension when 'ownership' then i.score_ownership when 'privilege' then i.score_privilege
                                                     when 'credential_age' then i.score_credential_age else i.score_monitoring end))
                                   from findings f where f.identity_id = i.id and f.status = 'open'), '[]'::jsonb),
             'excluded', '[]'::jsonb,
             'classification', jsonb_build_array(i.is_agent, i.agent_confidence, i.agent_platform, i.agent_override,
               coalesce((select jsonb_agg(jsonb_build_array(r->>'id', coalesce((r->>'weight')::float8, 0), true, 'connector'))
                           from jsonb_array_elements(i.agent_reasons) r), '[]'::jsonb))),
           ${now}::timestamptz
      from (select identities.*, (select count(*) from findings f where f.identity_id = identities.id and f.status = 'open')::int as open_count from identities where source_id in (${mine})) i`.execute(db)

  log('seeding change history and snapshots …')
  await sql`
    insert into identity_changes (identity_id, source_id, scan_run_id, change_type, details, occurred_at)
    select i.id, i.source_id, r.id,
           (array['identity_new','credential_added','privilege_gained','owner_changed','credential_removed'])[1 + (i.id % 5)],
           jsonb_build_object('note', 'seeded change'),
           ${now}::timestamptz - make_interval(mins => (i.id % 300)::int)
      from (select * from identities where source_id in (${mine})) as i join scan_runs r on r.source_id = i.source_id and r.queued_at >= ${now}::timestamptz - interval '1 hour' and r.status <> 'running'
     where i.id % 97 = 3`.execute(db)
  await db
    .insertInto('identity_changes')
    .values([
      { identity_id: orphanAgent, source_id: aws.id, scan_run_id: latestRun.get(aws.id) ?? null, change_type: 'privilege_gained', details: json({ action: '*', policy: 'AdministratorAccess' }), occurred_at: new Date(now.getTime() - 3_600_000) },
      { identity_id: orphanAgent, source_id: aws.id, scan_run_id: null, change_type: 'identity_new', details: json({}), occurred_at: new Date(now.getTime() - 500 * DAY) },
    ])
    .execute()
  await sql`
    update scan_runs r set identities_seen = c.n, credentials_seen = c.n * 3, entitlements_seen = c.n * 10
      from (select source_id, count(*)::int as n from identities where source_id in (${mine}) group by source_id) c
     where r.source_id = c.source_id and r.status <> 'running'`.execute(db)

  // Posture snapshots: the latest computed exactly from the rows; 29 earlier days drift towards it.
  await seedPostureHistory(db, now, Object.values(sources), latestRun)
  await sql`analyze`.execute(db)
  return { identities: n, sources, takenAt: now, showcase: { orphanAgent, copilotBot, ownedRole } }
}

export async function seedPostureHistory(db: Kysely<Database>, now: Date, sources: SeedSource[], latestRun: Map<string, string>): Promise<void> {
  // Today's snapshot is the real one scoring writes after a scan (estate and every source).
  await takePostureSnapshot(db, { takenAt: now })
  const today = await db
    .selectFrom('posture_snapshots')
    .selectAll()
    .where('taken_at', '=', now)
    .where((eb) => eb.or([eb('source_id', 'is', null), eb('source_id', 'in', sources.map((s) => s.id))]))
    .execute()
  for (const row of today) {
    if (row.source_id && latestRun.has(row.source_id)) {
      await db.updateTable('posture_snapshots').set({ scan_run_id: latestRun.get(row.source_id)! }).where('id', '=', row.id).execute()
    }
  }
  // 29 earlier days, marked as seeded: worse in the past (more findings and orphans), with some noise.
  const history = []
  for (const row of today) {
    for (let day = 29; day >= 1; day--) {
      const drift = 1 + day * 0.012 + Math.sin(day * 1.7) * 0.035 + (day % 7 === 3 ? 0.05 : 0)
      const meanRisk = Math.min(100, Number(row.mean_risk) * drift)
      history.push({
        taken_at: new Date(now.getTime() - day * DAY),
        source_id: row.source_id,
        scan_run_id: null,
        identities: Math.round(row.identities * (1 - day * 0.004)),
        agents: Math.round(row.agents * (1 - day * 0.006)),
        open_findings: Math.round(row.open_findings * drift),
        orphans: Math.round(row.orphans * drift),
        mean_risk: Math.round(meanRisk * 10) / 10,
        posture_score: Math.round((100 - meanRisk) * 10) / 10,
        aggregates: json({ ...(row.aggregates as Record<string, unknown>), seededBy: SEED_MARKER }),
      })
    }
  }
  for (let index = 0; index < history.length; index += 500) {
    await db.insertInto('posture_snapshots').values(history.slice(index, index + 500)).execute()
  }
}

/**
 * A user of the given role with a live session, created directly in the database, for
 * benchmarks and browser tests that need to be signed in. Returns the session cookie to send.
 */
export async function createSignedInUser(
  db: Kysely<Database>,
  role: Role,
  username = `${role}-${Date.now().toString(36)}`,
): Promise<{ userId: string; token: string; cookie: string }> {
  const user = await db
    .insertInto('users')
    .values({ username, display_name: `${role.replace('_', ' ')} (seeded)`, role, email: `${username}@acme.example` })
    .returning('id')
    .executeTakeFirstOrThrow()
  const token = randomBytes(32).toString('base64url')
  await db
    .insertInto('sessions')
    .values({ id_hash: createHash('sha256').update(token, 'utf8').digest('hex'), user_id: user.id, expires_at: new Date(Date.now() + 12 * 3_600_000) })
    .execute()
  // On plain-HTTP loopback the cookie has no __Host- prefix (app/utils/session.server.ts).
  return { userId: user.id, token, cookie: `leash_session=${token}` }
}

/** Removes what seedDashboard wrote (its sources and everything under them, and its estate snapshots). */
export async function removeDashboardSeed(db: Kysely<Database>, seed: Pick<DashboardSeed, 'sources' | 'takenAt'>): Promise<void> {
  const ids = Object.values(seed.sources).map((source) => source.id)
  if (ids.length > 0) await db.deleteFrom('sources').where('id', 'in', ids).execute()
  await sql`delete from posture_snapshots where source_id is null and (aggregates ->> 'seededBy' = ${SEED_MARKER} or taken_at = ${seed.takenAt})`.execute(db)
}
