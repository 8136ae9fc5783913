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
    const { rows } = await database.current.pool.query<{ table_name: string; column_name: string; is_nullable: 'YES' | 'NO'; is_view: boolean }>(
      `select c.table_name, c.column_name, c.is_nullable, v.table_name is not null as is_view
         from information_schema.columns c
         left join information_schema.views v on v.table_schema = c.table_schema and v.table_name = c.table_name
        where c.table_schema = 'public' and c.table_name not like 'kysely_%' order by c.table_name, c.ordinal_position`,
    )
    const live = new Map<string, Map<string, DeclaredColumn>>()
    const views = new Set<string>()
    for (const row of rows) {
      if (!live.has(row.table_name)) live.set(row.table_name, new Map())
      live.get(row.table_name)!.set(row.column_name, { nullable: row.is_nullable === 'YES' })
      if (row.is_view) views.add(row.table_name)
    }
    const declared = declaredSchema()
    // PostgreSQL calls every column of a view nullable; its types follow the tables it reads, so
    // only its column names are compared.
    const asSorted = (schema: Map<string, Map<string, DeclaredColumn>>) =>
      Object.fromEntries(
        [...schema.entries()]
          .sort()
          .map(([table, cols]) => [table, Object.fromEntries([...cols.entries()].sort().map(([name, column]) => [name, views.has(table) ? 'view column' : column]))]),
      )
    expect(views).toEqual(new Set(['identities']))
    expect(asSorted(declared)).toEqual(asSorted(live))
  })
})
