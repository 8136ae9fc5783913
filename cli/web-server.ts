/**
 * The HTTP server: Express serving the Remix build (or Vite's dev middleware with --dev).
 * Kept apart from `start` so tests and benchmarks can run the same server.
 */
import { existsSync } from 'node:fs'
import type { Server } from 'node:http'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { createRequestHandler } from '@remix-run/express'
import type { AppLoadContext, ServerBuild } from '@remix-run/node'
import express from 'express'
import type { LeashServices } from '../app/load-context.js'
import { LeashError } from './errors.js'
import { explainListenError } from './port.js'
import { csrfProtection, securityHeaders } from './web-security.js'

export interface WebServer {
  url: string
  port: number
  close(): Promise<void>
}

export const PROJECT_ROOT = path.resolve(import.meta.dirname, '..')
const BUILD_DIR = path.join(PROJECT_ROOT, 'build')

export async function startWebServer(options: {
  services: LeashServices
  port: number
  host?: string
  dev?: boolean
}): Promise<WebServer> {
  const app = express()
  app.disable('x-powered-by')
  // Behind a proxy the client address comes from X-Forwarded-For; Leash trusts loopback proxies only.
  app.set('trust proxy', 'loopback')
  // Headers (with the per-request CSP nonce) on every response, static files included; then CSRF.
  app.use(securityHeaders({ dev: options.dev }))
  app.use(csrfProtection(options.services.db))

  let build: ServerBuild | (() => Promise<ServerBuild>)
  let closeVite = async () => {}
  if (options.dev) {
    const vite = await import('vite')
    const devServer = await vite.createServer({ root: PROJECT_ROOT, server: { middlewareMode: true } })
    app.use(devServer.middlewares)
    build = () => devServer.ssrLoadModule('virtual:remix/server-build') as Promise<ServerBuild>
    closeVite = () => devServer.close()
  } else {
    const serverEntry = path.join(BUILD_DIR, 'server', 'index.js')
    if (!existsSync(serverEntry)) {
      throw new LeashError(`The web app is not built (${serverEntry} is missing).`, 'Run `npm run build`, or `npm start`, which builds it when needed.')
    }
    build = (await import(pathToFileURL(serverEntry).href)) as ServerBuild
    app.use('/assets', express.static(path.join(BUILD_DIR, 'client', 'assets'), { immutable: true, maxAge: '1y' }))
    app.use(express.static(path.join(BUILD_DIR, 'client'), { maxAge: '1h' }))
  }

  // The express adapter types the context as server-runtime's open record; ours is the typed LeashServices.
  app.all(
    '*',
    createRequestHandler({
      build,
      getLoadContext: (req, res) =>
        ({ ...options.services, clientIp: req.ip ?? null, cspNonce: (res.locals as { cspNonce?: string }).cspNonce }) as unknown as AppLoadContext,
    }),
  )

  const host = options.host ?? '0.0.0.0'
  const server = await new Promise<Server>((resolve, reject) => {
    const listening = app.listen(options.port, host)
    listening.once('listening', () => resolve(listening))
    listening.once('error', (error: NodeJS.ErrnoException) => reject(explainListenError(error, options.port)))
  })
  const address = server.address()
  const port = typeof address === 'object' && address ? address.port : options.port
  return {
    url: `http://localhost:${port}`,
    port,
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()))
      server.closeAllConnections()
      await closeVite()
    },
  }
}
