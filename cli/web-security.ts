/**
 * HTTP-level protections applied to every request before Remix sees it:
 *
 * - Security headers (helmet): a strict Content-Security-Policy with a per-request nonce for
 *   the inline scripts Remix renders, frame-ancestors 'none', nosniff, a same-origin
 *   Referrer-Policy, a Permissions-Policy that turns off powerful features, and HSTS when
 *   served over HTTPS outside localhost.
 * - Cross-site request forgery: every non-GET/HEAD/OPTIONS request must come from Leash's own
 *   origin, judged by Sec-Fetch-Site and Origin (OWASP's "verifying origin with standard
 *   headers"), on top of SameSite=Lax session cookies. Requests authenticated with an API
 *   token (Authorization: Bearer) are exempt: browsers cannot attach that header cross-site
 *   without a CORS preflight, which Leash never grants, and such requests ignore cookies.
 */
import { randomBytes } from 'node:crypto'
import type { NextFunction, Request, RequestHandler, Response } from 'express'
import helmet from 'helmet'
import type { Kysely } from 'kysely'
import { appendAuditEvent } from '../db/audit.js'
import type { Database } from '../db/schema.js'

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS'])
const LOCAL_HOSTNAMES = new Set(['localhost', '127.0.0.1', '[::1]', '::1'])

function isLocal(req: Request): boolean {
  return LOCAL_HOSTNAMES.has(req.hostname) || req.hostname.endsWith('.localhost')
}

function nonceOf(res: Response): string {
  return (res.locals as { cspNonce?: string }).cspNonce ?? ''
}

function buildHelmet(options: { https: boolean }) {
  return helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        // Remix's inline scripts (hydration data, module loader) carry the per-request nonce.
        scriptSrc: ["'self'", (_req, res) => `'nonce-${nonceOf(res as Response)}'`],
        // No injected <style> elements; style attributes (React's style={…}, chart libraries) stay allowed.
        styleSrc: ["'self'"],
        styleSrcElem: ["'self'"],
        styleSrcAttr: ["'unsafe-inline'"],
        imgSrc: ["'self'", 'data:'],
        fontSrc: ["'self'"],
        connectSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'none'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        frameSrc: ["'none'"],
        workerSrc: ["'self'"],
        manifestSrc: ["'self'"],
        ...(options.https ? { upgradeInsecureRequests: [] } : {}),
      },
    },
    crossOriginEmbedderPolicy: false,
    crossOriginOpenerPolicy: { policy: 'same-origin' },
    crossOriginResourcePolicy: { policy: 'same-origin' },
    referrerPolicy: { policy: 'same-origin' },
    // HSTS only where it means something: HTTPS outside localhost (on localhost it would pin every local app to HTTPS).
    strictTransportSecurity: options.https ? { maxAge: 31_536_000, includeSubDomains: true } : false,
    xFrameOptions: { action: 'deny' },
    xContentTypeOptions: true,
    xDnsPrefetchControl: { allow: false },
    xPermittedCrossDomainPolicies: { permittedPolicies: 'none' },
    originAgentCluster: true,
  })
}

const PERMISSIONS_POLICY = [
  'accelerometer=()',
  'autoplay=()',
  'camera=()',
  'display-capture=()',
  'geolocation=()',
  'gyroscope=()',
  'magnetometer=()',
  'microphone=()',
  'midi=()',
  'payment=()',
  'publickey-credentials-get=()',
  'usb=()',
  'interest-cohort=()',
].join(', ')

/** Security headers and the CSP nonce (res.locals.cspNonce). In dev (Vite HMR) the CSP is left out. */
export function securityHeaders(options: { dev?: boolean } = {}): RequestHandler {
  const forHttps = buildHelmet({ https: true })
  const forHttp = buildHelmet({ https: false })
  return (req, res, next) => {
    ;(res.locals as { cspNonce?: string }).cspNonce = randomBytes(16).toString('base64')
    res.setHeader('Permissions-Policy', PERMISSIONS_POLICY)
    const handler = req.secure && !isLocal(req) ? forHttps : forHttp
    handler(req, res, (error?: unknown) => {
      if (error) return next(error)
      // Vite's dev server injects inline scripts and opens a WebSocket; development runs without a CSP.
      if (options.dev) res.removeHeader('Content-Security-Policy')
      next()
    })
  }
}

/** The origins a state-changing browser request may come from: this server's, plus LEASH_PUBLIC_URL's. */
function allowedOrigins(req: Request): Set<string> {
  const origins = new Set<string>([`${req.protocol}://${req.get('host') ?? ''}`])
  // Behind a trusted (loopback) proxy Express takes the host from X-Forwarded-Host; accept that origin too.
  const forwardedHost = req.get('x-forwarded-host')?.split(',')[0]?.trim()
  if (forwardedHost && req.hostname === forwardedHost.replace(/:\d+$/, '')) origins.add(`${req.protocol}://${forwardedHost}`)
  const configured = process.env.LEASH_PUBLIC_URL
  if (configured) {
    try {
      origins.add(new URL(configured).origin)
    } catch {
      // An invalid LEASH_PUBLIC_URL adds nothing; the request must then match the Host header.
    }
  }
  return origins
}

export type CsrfVerdict = { ok: true } | { ok: false; why: string }

export function judgeCrossSite(req: Request): CsrfVerdict {
  if (SAFE_METHODS.has(req.method)) return { ok: true }
  const authorization = req.get('authorization')
  if (authorization && /^Bearer\s+\S+/i.test(authorization)) return { ok: true }
  const fetchSite = req.get('sec-fetch-site')
  const origin = req.get('origin')
  if (fetchSite !== undefined && fetchSite !== 'same-origin' && fetchSite !== 'none') {
    return { ok: false, why: `Sec-Fetch-Site is "${fetchSite}"` }
  }
  if (origin !== undefined) {
    if (!allowedOrigins(req).has(origin)) return { ok: false, why: `Origin ${origin} is not this server's origin` }
    return { ok: true }
  }
  if (fetchSite !== undefined) return { ok: true }
  return { ok: false, why: 'the request carries neither Origin nor Sec-Fetch-Site' }
}

/** Refuses cross-site state-changing requests with 403 and records them in the audit trail. */
export function csrfProtection(db: Kysely<Database>): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    const verdict = judgeCrossSite(req)
    if (verdict.ok) return next()
    appendAuditEvent(db, {
      actor: { type: 'anonymous', id: null, display: null },
      action: 'csrf.refused',
      after: { method: req.method, path: req.path, why: verdict.why },
      ip: req.ip ?? null,
    })
      .catch(() => {
        // The refusal stands even when it cannot be recorded.
      })
      .finally(() => {
        res
          .status(403)
          .type('text/plain')
          .send(
            `Refused: this request did not come from Leash itself (${verdict.why}). If you submitted a form in Leash, reload the page and try again; scripts should use an API token (Authorization: Bearer).`,
          )
      })
  }
}
