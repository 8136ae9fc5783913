#!/usr/bin/env node
// `npm run bench -- <name> [options]`: runs bench/<name>.ts (see bench/index.ts).
import { register } from 'tsx/esm/api'

register()
await import('../bench/index.ts')
