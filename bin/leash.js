#!/usr/bin/env node
// The `leash` command. The CLI is TypeScript run through tsx's loader, so the same sources
// serve the CLI, the workers and the tests without a separate compile step (docs/decisions/002).
import { register } from 'tsx/esm/api'

register()
await import('../cli/index.ts')
