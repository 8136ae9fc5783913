/**
 * Starts the built app against a database of its own for the browser tests, and tears both
 * down afterwards. Tests reach them through LEASH_E2E_BASE_URL and LEASH_E2E_DATABASE_URL.
 */
import { spawn } from 'node:child_process'
import path from 'node:path'
import { createTemplate, createDatabaseFromTemplate, dropDatabase, startTestServer } from '../database.js'
import { startE2EStandIns } from './stand-ins.js'

const ROOT = path.resolve(import.meta.dirname, '..', '..')

export default async function globalSetup() {
  const server = await startTestServer()
  const template = await createTemplate(server.adminUrl)
  const database = await createDatabaseFromTemplate(server.adminUrl, template, { max: 2 })
  await database.close()
  await dropDatabase(server.adminUrl, template)

  const databaseUrl = database.url
  // Provider stand-ins first: the app's SDK credential chain reads their fake keys from its environment.
  const standIns = await startE2EStandIns()
  Object.assign(process.env, standIns.specEnv)
  const app = spawn(process.execPath, [path.join(ROOT, 'bin', 'leash.js'), 'start', '--port', '0', '--host', '127.0.0.1'], {
    cwd: ROOT,
    // LEASH_DEMO=0: the browser tests expect an empty estate unless they seed their own (test/e2e/demo.spec.ts runs the demo).
    env: { ...process.env, ...standIns.env, DATABASE_URL: databaseUrl, LEASH_E2E: '1', LEASH_DEMO: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  const baseUrl = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`The app did not start within 90 s:\n${output}`)), 90_000)
    const onData = (chunk: Buffer) => {
      output += chunk.toString()
      const match = /ready: (http:\/\/\S+)/.exec(output)
      if (match?.[1]) {
        clearTimeout(timer)
        resolve(match[1].replace('localhost', '127.0.0.1'))
      }
    }
    app.stdout.on('data', onData)
    app.stderr.on('data', onData)
    app.on('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`The app exited with code ${code} before it was ready:\n${output}`))
    })
  })
  process.env.LEASH_E2E_BASE_URL = baseUrl
  process.env.LEASH_E2E_DATABASE_URL = databaseUrl
  // Later output is kept for failure reports (and keeps the pipe from filling up).
  app.stdout.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-20_000)))
  app.stderr.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-20_000)))

  return async () => {
    app.removeAllListeners('exit')
    app.kill('SIGTERM')
    await new Promise((resolve) => app.once('exit', resolve))
    await standIns.stop()
    await dropDatabase(server.adminUrl, database.name)
    await server.embedded?.stop()
  }
}
