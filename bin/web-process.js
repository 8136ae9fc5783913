// One web process of `leash start` (cli/web-processes.ts forks it through node:cluster).
import { register } from 'tsx/esm/api'

register()
await import('../cli/web-process.ts')
