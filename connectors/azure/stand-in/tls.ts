/**
 * A throwaway self-signed certificate for the stand-in. Microsoft's identity library (MSAL)
 * refuses a plain-http authority, so the stand-in speaks HTTPS; the certificate is made once
 * per process, valid for 127.0.0.1 and localhost, and handed to the SDKs as a trusted CA via
 * the source setting `endpoints.caCertificatePem` (public part only).
 */
import { generate } from 'selfsigned'

export interface StandInCertificate {
  cert: string
  key: string
}

let pending: Promise<StandInCertificate> | null = null

export function standInCertificate(): Promise<StandInCertificate> {
  pending ??= generate([{ name: 'commonName', value: 'leash-azure-stand-in' }], {
    keySize: 2048,
    algorithm: 'sha256',
    days: 30,
    extensions: [
      { name: 'basicConstraints', cA: true },
      { name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }, { type: 2, value: 'localhost' }] },
    ],
  } as Parameters<typeof generate>[1]).then((p) => ({ cert: p.cert, key: p.private }))
  return pending
}
