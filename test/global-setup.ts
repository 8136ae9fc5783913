import type { TestProject } from 'vitest/node'
import { createTemplate, dropDatabase, startTestServer } from './database.js'

declare module 'vitest' {
  export interface ProvidedContext {
    adminDatabaseUrl: string
    templateDatabase: string
  }
}

export default async function setup(project: TestProject) {
  const server = await startTestServer()
  const template = await createTemplate(server.adminUrl)
  project.provide('adminDatabaseUrl', server.adminUrl)
  project.provide('templateDatabase', template)
  return async () => {
    await dropDatabase(server.adminUrl, template)
    await server.embedded?.stop()
  }
}
