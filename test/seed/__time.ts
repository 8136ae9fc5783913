import { connectDatabase } from '../../db/connection.js'
import { countIdentities, identityFacets, listIdentities, prepareIdentityFilter } from '../../db/queries/identities.js'
import { getPostureOverview } from '../../db/queries/posture.js'
import { listSourceStatuses } from '../../db/queries/sources.js'
import { getIdentityDetail } from '../../db/queries/identity-detail.js'
const h = connectDatabase(process.argv[2]!)
const db = h.db
async function t(name: string, fn: () => Promise<unknown>) {
  for (let i = 0; i < 2; i++) await fn()
  const s = performance.now(); const n = 5
  for (let i = 0; i < n; i++) await fn()
  console.log(name.padEnd(30), ((performance.now() - s) / n).toFixed(1), 'ms')
}
await t('list first', () => listIdentities(db, {}, {}))
await t('count', () => countIdentities(db, {}))
await t('facets est', async () => identityFacets(db, {}, await countIdentities(db, {})))
const f = { provider: 'aws', agent: 'yes' as const, ownerStatus: 'none' as const }
await t('list filtered', () => listIdentities(db, f, {}))
await t('count filtered', () => countIdentities(db, f))
await t('facets filtered', async () => identityFacets(db, f, await countIdentities(db, f)))
const q = await prepareIdentityFilter(db, { q: 'data-0001234' })
await t('search list', async () => listIdentities(db, await prepareIdentityFilter(db, { q: 'data-0001234' }), {}))
await t('search count+facets', async () => identityFacets(db, q, await countIdentities(db, q)))
await t('posture', () => getPostureOverview(db, {}))
await t('sources', () => listSourceStatuses(db))
await t('detail', () => getIdentityDetail(db, 777))
await h.close()
