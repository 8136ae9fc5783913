/**
 * What runs inside one scoring thread (scoring/threads.ts): its own connections and pass
 * context, then the keyset loop over its range. Progress, the outcome and any error go back as
 * messages; an 'abort' message stops it at the next batch.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { connectDatabase } from '../db/connection.js'
import { loadPassContext } from './load.js'
import { scoreRange } from './pass.js'
import { serializeError, type ThreadData, type ThreadMessage } from './threads.js'

if (!parentPort) throw new Error('scoring/thread-entry.ts runs only as a worker thread started by scoring/threads.ts.')
const port = parentPort
const data = workerData as ThreadData
const stop = new AbortController()
port.on('message', (message: { kind?: string }) => {
  if (message.kind === 'abort') stop.abort(new Error('The scoring pass stopped.'))
})
// Messages from the main thread must not keep this thread alive once its range is done.
port.unref()
const post = (message: ThreadMessage) => port.postMessage(message)

const handle = connectDatabase(data.url, { applicationName: data.applicationName })
try {
  const context = await loadPassContext(handle.db)
  await scoreRange(handle.db, context, data.work, data.range, (count) => post({ kind: 'written', count }), stop.signal)
  post({ kind: 'done' })
} catch (error) {
  post({ kind: 'failed', error: serializeError(error) })
} finally {
  await handle.close()
}
