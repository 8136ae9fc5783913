// Starts a scoring thread (scoring/threads.ts): tsx's loader, registered in the main thread,
// does not reach a new one, so each thread registers it before loading the TypeScript entry.
import { register } from 'tsx/esm/api'

register()
await import('./thread-entry.ts')
