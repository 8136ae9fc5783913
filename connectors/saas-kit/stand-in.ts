/**
 * The HTTP shell every SaaS stand-in shares: an express app on 127.0.0.1, a request log, and
 * fault injection (throttling with Retry-After, an authorization failure, a malformed page)
 * that tests or `POST /__standin/faults` switch on. The provider modules add the routes that
 * speak the real wire format.
 */
import { type Server } from 'node:http'
import { type AddressInfo } from 'node:net'
import express, { type Express, type Request, type Response, type NextFunction } from 'express'

export interface Fault {
  /** Matched against `METHOD /path?query`, e.g. /GET \/v1\/organization\/projects\b/. */
  match: RegExp
  kind: 'throttle' | 'forbidden' | 'malformed' | 'server_error'
  /** How many matching requests it affects (then it is spent). */
  times: number
  retryAfterSeconds?: number
}

export interface StandInServer {
  url: string
  app: Express
  /** Every request seen, as `METHOD /path?query`, in order. */
  requests: string[]
  inject(fault: Fault): void
  clearFaults(): void
  close(): Promise<void>
}

export interface StandInOptions {
  port?: number
  /** Returns null when the request may proceed, else the HTTP status and body to answer. */
  authorize(req: Request): { status: number; body: unknown } | null
  /** The provider's error envelope, so SDKs parse injected failures like real ones. */
  errorBody(status: number, message: string): unknown
  routes(app: Express): void
}

export async function startStandInServer(options: StandInOptions): Promise<StandInServer> {
  const app = express()
  app.disable('x-powered-by')
  app.set('etag', false)
  const requests: string[] = []
  let faults: Fault[] = []

  app.use(express.json({ limit: '1mb', type: ['application/json', 'application/*+json'] }))
  app.post('/__standin/faults', (req, res) => {
    const body = req.body as { match: string; kind: Fault['kind']; times?: number; retryAfterSeconds?: number }
    faults.push({ match: new RegExp(body.match), kind: body.kind, times: body.times ?? 1, retryAfterSeconds: body.retryAfterSeconds })
    res.status(204).end()
  })
  app.use((req: Request, res: Response, next: NextFunction) => {
    const line = `${req.method} ${req.originalUrl}`
    requests.push(line)
    const fault = faults.find((f) => f.times > 0 && f.match.test(line))
    if (fault) {
      fault.times -= 1
      if (fault.kind === 'throttle') {
        res.setHeader('Retry-After', String(fault.retryAfterSeconds ?? 1))
        res.status(429).json(options.errorBody(429, 'Rate limit exceeded. Please retry after the time in Retry-After.'))
        return
      }
      if (fault.kind === 'forbidden') {
        res.status(403).json(options.errorBody(403, 'The credential does not have permission for this operation.'))
        return
      }
      if (fault.kind === 'server_error') {
        res.status(503).json(options.errorBody(503, 'Service unavailable.'))
        return
      }
      res.status(200).type('application/json').send('{"data": [{"id": "trunc')
      return
    }
    const denied = options.authorize(req)
    if (denied) {
      res.status(denied.status).json(denied.body)
      return
    }
    next()
  })
  options.routes(app)
  app.use((req: Request, res: Response) => {
    res.status(404).json(options.errorBody(404, `No route for ${req.method} ${req.path}`))
  })

  const server: Server = await new Promise((resolve, reject) => {
    const s = app.listen(options.port ?? 0, '127.0.0.1', () => resolve(s))
    s.once('error', reject)
  })
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    app,
    requests,
    inject(fault) {
      faults.push({ ...fault })
    },
    clearFaults() {
      faults = []
    },
    close() {
      return new Promise((resolve, reject) => {
        server.closeAllConnections()
        server.close((err) => (err ? reject(err) : resolve()))
      })
    },
  }
}

/** Cursor pagination over a sorted list by id: `after` / `limit` → page + has_more. */
export function pageAfter<T extends { id: string }>(items: T[], after: string | undefined, limit: number): { page: T[]; hasMore: boolean } {
  let start = 0
  if (after) {
    const i = items.findIndex((x) => x.id === after)
    start = i < 0 ? items.length : i + 1
  }
  const page = items.slice(start, start + limit)
  return { page, hasMore: start + limit < items.length }
}

export function intParam(value: unknown, fallback: number, max: number): number {
  const n = Number(value)
  return Number.isInteger(n) && n > 0 ? Math.min(n, max) : fallback
}
