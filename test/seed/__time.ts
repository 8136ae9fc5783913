import { connectDatabase } from '../../db/connection.js'
import { countIdentities, identityFacets, listIdentities, prepareIdentityFilter } from '../../db/queries/identities.js'
import { changesSinceLastScan, getPostureOverview, latestSnapshot, postureTrend } from '../../db/queries/posture.js'
import { listSourceStatuses } from '../../db/queries/sources.js'
import { getIdentityDetail, ownerHints } from '../../db/queries/identity-detail.js'
const h = connectDatabase(process.argv[2]!)
const db = h.db
async function t(name: string, fn: () => Promise<unknown>) {
  await fn()
  const s = performance.now(); const n = 3
  for (let i = 0; i < n; i++) await fn()
  console.log(name.padEnd(30), ((performance.now() - s) / n).toFixed(1), 'ms')
}
await t('list first', () => listIdentities(db, {}, {}))
await t('count', () => countIdentities(db, {}))
await t('facets est', async () => identityFacets(db, {}, await countIdentities(db, {})))
const f = { provider: 'aws', agent: 'yes' as const, ownerStatus: 'none' as const }
await t('list filtered', () => listIdentities(db, f, {}))
await t('list filtered2', () => listIdentities(db, { risk: 'critical', dimension: 'privilege' }, {}))
await t('list filtered3', () => listIdentities(db, { provider: 'azure' }, { sort: 'last_used' }))
await t('count filtered', () => countIdentities(db, f))
await t('facets filtered', async () => identityFacets(db, f, await countIdentities(db, f)))
await t('search prepare', () => prepareIdentityFilter(db, { q: 'data-00012345' }))
const q = await prepareIdentityFilter(db, { q: 'data-00012345' })
await t('search list', () => listIdentities(db, q, {}))
await t('search count', () => countIdentities(db, q))
await t('search facets', async () => identityFacets(db, q, await countIdentities(db, q)))
await t('posture', () => getPostureOverview(db, {}))
await t('posture snapshot', () => latestSnapshot(db, null))
await t('posture trend', () => postureTrend(db, null))
await t('posture changes', () => changesSinceLastScan(db, {}))
await t('posture riskiest', () => listIdentities(db, {}, { sort: 'risk' }, 10))
await t('orphans list', () => listIdentities(db, { orphan: 'yes' }, { sort: 'risk' }, 25))
await t('orphans count', () => countIdentities(db, { orphan: 'yes' }))
await t('orphans hints', async () => ownerHints(db, (await listIdentities(db, { orphan: 'yes' }, {}, 25)).rows.map((r) => r.id)))
await t('sources', () => listSourceStatuses(db))
await t('detail', () => getIdentityDetail(db, 777777))
await h.close()
