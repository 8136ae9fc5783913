/**
 * Benchmark dispatcher: `npm run bench -- <name> [--identities N] [--json]`.
 * Each benchmark is bench/<name>.ts exporting `run(args: string[]): Promise<void>`.
 * Benchmarks print human-readable figures, and with --json one JSON object on the last line.
 */
import { existsSync, readdirSync } from 'node:fs'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { describeError } from '../cli/errors.js'

const here = import.meta.dirname
const available = readdirSync(here)
  .filter((file) => file.endsWith('.ts') && !['index.ts'].includes(file) && !file.includes('.test.') && !file.startsWith('_'))
  .map((file) => file.replace(/\.ts$/, ''))
  .sort()

const [name, ...args] = process.argv.slice(2)
if (!name || name === '--help' || name === '-h') {
  console.log(`Usage: npm run bench -- <name> [--identities N] [--json]\n\nBenchmarks: ${available.join(', ') || '(none yet)'}`)
  process.exit(name ? 0 : 2)
}
const file = path.join(here, `${name}.ts`)
if (!existsSync(file)) {
  console.error(`bench: no benchmark "${name}". Available: ${available.join(', ')}`)
  process.exit(2)
}
const benchmark = (await import(pathToFileURL(file).href)) as { run(args: string[]): Promise<void> }
try {
  await benchmark.run(args)
} catch (error) {
  console.error(`bench ${name}: ${describeError(error)}`)
  process.exitCode = 1
}
