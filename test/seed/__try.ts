import { connectDatabase } from '../../db/connection.js'
import { migrateToLatest } from '../../db/migrate.js'
import { seedDashboard } from '../../test/seed/dashboard-seed.js'
import pg from 'pg'
const admin = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' })
await admin.connect()
const name = process.argv[2] ?? 'leash_dash_scratch'
await admin.query(`drop database if exists ${name} with (force)`)
await admin.query(`create database ${name}`)
await admin.end()
const h = connectDatabase(`postgres://postgres@127.0.0.1:5432/${name}`)
await migrateToLatest(h.db)
const t = Date.now()
const seed = await seedDashboard(h.db, { identities: Number(process.argv[3] ?? 400), log: console.log })
console.log(JSON.stringify(seed.showcase), (Date.now() - t) / 1000, 's')
await h.close()
