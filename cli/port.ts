/**
 * The web port: what a failed listen means in plain words, and a check at the very start of
 * `leash start`, so a port in use is reported in a second rather than after the database has
 * started and the app has been built (a first start's build takes most of a minute).
 */
import net from 'node:net'
import { LeashError } from './errors.js'

/** A LeashError for the listen errors a user can fix; any other error unchanged. */
export function explainListenError(error: NodeJS.ErrnoException, port: number): Error {
  if (error.code === 'EADDRINUSE') return new LeashError(`Port ${port} is already in use.`, `Stop the program using it, or choose another port: PORT=${port + 1} npm start`)
  if (error.code === 'EACCES') return new LeashError(`Not allowed to listen on port ${port}.`, 'Choose a port above 1024: PORT=3000 npm start')
  return error
}

/**
 * Fails now if the port cannot be listened on. The web processes listen later and still report
 * the same errors: a program may take the port in between, which this check cannot prevent.
 */
export async function ensurePortAvailable(port: number, host: string): Promise<void> {
  if (port === 0) return
  await new Promise<void>((resolve, reject) => {
    const probe = net.createServer()
    probe.once('error', (error: NodeJS.ErrnoException) => reject(explainListenError(error, port)))
    probe.listen({ port, host, exclusive: true }, () => probe.close(() => resolve()))
  })
}
