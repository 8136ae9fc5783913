import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { RULES_DOC_PATH, renderRulesMarkdown } from './docs.js'
import { rules } from './rules/index.js'

describe('docs/rules.md', () => {
  it('matches the rule catalogue (regenerate with `npx tsx scoring/docs.ts`)', () => {
    expect(readFileSync(RULES_DOC_PATH, 'utf8')).toBe(renderRulesMarkdown())
  })

  it('lists every rule with its NHI mapping', () => {
    const text = renderRulesMarkdown()
    for (const rule of rules) expect(text).toContain(`| [\`${rule.id}\`](#${rule.id}) |`)
    expect(text).toContain('CIS AWS Foundations Benchmark 1.14')
  })
})
