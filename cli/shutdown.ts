/**
 * Orderly shutdown: on SIGINT/SIGTERM, run the registered closers in reverse order (web
 * server, workers, then the database, which stops the embedded PostgreSQL cleanly).
 */
const closers: (() => Promise<void>)[] = []
let installed = false
let shuttingDown = false

export function onShutdown(close: () => Promise<void>): void {
  closers.push(close)
  if (installed) return
  installed = true
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      void shutdown(signal === 'SIGINT' ? 130 : 143)
    })
  }
}

export async function shutdown(exitCode = 0): Promise<void> {
  if (shuttingDown) return
  shuttingDown = true
  for (const close of closers.reverse()) {
    try {
      await close()
    } catch (error) {
      console.error(`leash: error while shutting down: ${error instanceof Error ? error.message : String(error)}`)
    }
  }
  process.exit(exitCode)
}
