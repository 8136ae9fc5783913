/**
 * Renders docs/rules.md from the rule catalogue and the threshold table, so the documentation
 * cannot drift from the code (scoring/docs.test.ts fails when it does).
 * Regenerate with: npx tsx scoring/docs.ts
 */
import { writeFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { ProviderName } from '../connectors/contract.js'
import { COMMAND_TOOLS } from './rules/commands.js'
import { rules } from './rules/index.js'
import { THRESHOLDS, THRESHOLD_NAMES, type ThresholdDefinition } from './thresholds.js'

const DIMENSION_TITLES = {
  ownership: 'Ownership',
  privilege: 'Over-privilege',
  credential_age: 'Credential age',
  monitoring: 'Monitoring gaps',
} as const

export const RULES_DOC_PATH = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'docs', 'rules.md')

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ')

export function renderRulesMarkdown(): string {
  const lines: string[] = [
    '# Rule catalogue',
    '',
    '<!-- Generated from scoring/rules by `npx tsx scoring/docs.ts`. Do not edit by hand: scoring/docs.test.ts fails when this file and the code disagree. -->',
    '',
    `Leash evaluates ${rules.length} rules on every identity, whatever its provider: rules read only the normalized model. ` +
      'A rule that cannot decide because Leash could not read something answers **unknown** with the missing permission, never a failing finding. ' +
      'How findings become scores is in [scoring.md](scoring.md). OWASP items refer to the [OWASP Non-Human Identities Top 10 (2025)](https://owasp.org/www-project-non-human-identities-top-10/).',
    '',
    '## Summary',
    '',
    '| Rule | Dimension | Severity | OWASP NHI | Thresholds | One-click remedy |',
    '|---|---|---|---|---|---|',
  ]
  for (const rule of rules) {
    const thresholds =
      rule.thresholds.map((name) => `\`${name}\` (${(THRESHOLDS as Record<string, ThresholdDefinition>)[name]!.default})`).join(', ') || '—'
    const nhi = [rule.nhi, ...(rule.relatedNhi ?? [])].join(', ')
    lines.push(
      `| [\`${rule.id}\`](#${rule.id}) | ${DIMENSION_TITLES[rule.dimension]} | ${rule.severity} | ${nhi} | ${thresholds} | ${rule.remedyActionId ? `\`${rule.remedyActionId}\`` : '—'} |`,
    )
  }
  lines.push(
    '',
    '## Thresholds',
    '',
    'Defaults, and where each comes from. Override them per source (`sources.thresholds`, or `threshold_overrides` with scope `source`) or per tag (`threshold_overrides` with scope `tag` and value `key=value`); see [scoring.md](scoring.md#thresholds).',
    '',
  )
  lines.push('| Threshold | Default | Meaning | Source of the default |', '|---|---|---|---|')
  for (const name of THRESHOLD_NAMES) {
    const definition: ThresholdDefinition = THRESHOLDS[name]
    lines.push(`| \`${name}\` | ${definition.default} ${definition.unit} | ${cell(definition.description)} | ${cell(definition.source)} |`)
  }
  for (const dimension of Object.keys(DIMENSION_TITLES) as (keyof typeof DIMENSION_TITLES)[]) {
    lines.push('', `## ${DIMENSION_TITLES[dimension]}`)
    for (const rule of rules.filter((r) => r.dimension === dimension)) {
      lines.push(
        '',
        `### ${rule.id}`,
        '',
        `**${rule.title}** — severity ${rule.severity}, ${[rule.nhi, ...(rule.relatedNhi ?? [])].join(', ')}.`,
        '',
        rule.rationale,
        '',
      )
      if (rule.thresholds.length > 0) lines.push(`Thresholds: ${rule.thresholds.map((name) => `\`${name}\``).join(', ')}.`, '')
      lines.push('How to fix it:', '')
      rule.remediation.console.forEach((step, index) => lines.push(`${index + 1}. ${step}`))
      const commands = Object.entries(rule.remediation.cli)
      if (commands.length > 0) {
        lines.push('', '```sh')
        commands.forEach(([provider, command], index) => lines.push(...(index > 0 ? [''] : []), `# ${COMMAND_TOOLS[provider as ProviderName]}`, command))
        lines.push('```')
      }
      if (rule.remedyActionId) lines.push('', `One-click action: \`${rule.remedyActionId}\`.`)
    }
  }
  return `${lines.join('\n')}\n`
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  writeFileSync(RULES_DOC_PATH, renderRulesMarkdown())
  console.log(`Wrote ${RULES_DOC_PATH}`)
}
