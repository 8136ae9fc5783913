/**
 * The TypeScript Database interface (db/schema.ts) must match the tables the migrations
 * create: same tables, same columns, same nullability. Reads the interface with the
 * TypeScript compiler and the live schema from information_schema.
 */
import path from 'node:path'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'
import { useTestDatabase } from '../test/db.js'

interface DeclaredColumn {
  nullable: boolean
}

function declaredSchema(): Map<string, Map<string, DeclaredColumn>> {
  const file = path.join(import.meta.dirname, 'schema.ts')
  const program = ts.createProgram([file], { strict: true, skipLibCheck: true, module: ts.ModuleKind.ESNext, moduleResolution: ts.ModuleResolutionKind.Bundler })
  const checker = program.getTypeChecker()
  const source = program.getSourceFile(file)!
  const moduleSymbol = checker.getSymbolAtLocation(source)!
  const databaseSymbol = checker.getExportsOfModule(moduleSymbol).find((s) => s.name === 'Database')!
  const databaseType = checker.getDeclaredTypeOfSymbol(databaseSymbol)
  const tables = new Map<string, Map<string, DeclaredColumn>>()
  for (const table of databaseType.getProperties()) {
    const tableType = checker.getTypeOfSymbolAtLocation(table, source)
    const columns = new Map<string, DeclaredColumn>()
    for (const column of tableType.getProperties()) {
      const text = checker.typeToString(checker.getTypeOfSymbolAtLocation(column, source), undefined, ts.TypeFormatFlags.NoTruncation)
      columns.set(column.name, { nullable: /\|\s*null\b|\bnull\s*\|/.test(text) && !/^Generated</.test(text) })
    }
    tables.set(table.name, columns)
  }
  return tables
}

describe('db/schema.ts', () => {
  const database = useTestDatabase()

  it('declares exactly the tables and columns the migrations create, with their nullability', async () => {
    const { rows } = await database.current.pool.query<{ table_name: string; column_name: string; is_nullable: 'YES' | 'NO' }>(
      `select table_name, column_name, is_nullable from information_schema.columns
        where table_schema = 'public' and table_name not like 'kysely_%' order by table_name, ordinal_position`,
    )
    const live = new Map<string, Map<string, DeclaredColumn>>()
    for (const row of rows) {
      if (!live.has(row.table_name)) live.set(row.table_name, new Map())
      live.get(row.table_name)!.set(row.column_name, { nullable: row.is_nullable === 'YES' })
    }
    const declared = declaredSchema()
    const asSorted = (schema: Map<string, Map<string, DeclaredColumn>>) =>
      Object.fromEntries([...schema.entries()].sort().map(([table, cols]) => [table, Object.fromEntries([...cols.entries()].sort())]))
    expect(asSorted(declared)).toEqual(asSorted(live))
  })
})
