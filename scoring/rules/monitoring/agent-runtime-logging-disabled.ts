import { defineRule } from '../helpers.js'

export const monitoringAgentRuntimeLoggingDisabled = defineRule({
  id: 'monitoring_agent_runtime_logging_disabled',
  title: 'AI agent runtime without invocation logging',
  dimension: 'monitoring',
  severity: 'high',
  nhi: 'NHI6',
  relatedNhi: ['NHI10'],
  rationale:
    "The agent's runtime does not log its invocations, so there is no record of the prompts it received or the actions it took with its identity. Investigating misuse, prompt injection or data leakage is impossible afterwards.",
  remediation: {
    console: [
      'Enable invocation logging on the agent runtime (Amazon Bedrock: Settings → Model invocation logging; Azure OpenAI: diagnostic settings; Vertex AI: request-response logging).',
      'Send the logs somewhere the agent identity itself cannot delete them.',
    ],
    cli: {
      aws: 'aws bedrock put-model-invocation-logging-configuration --logging-config file://logging.json',
    },
  },
  remedyActionId: null,
  thresholds: [],
  evaluate(input) {
    if (!input.isAgent) return []
    if (input.identity.posture.monitoring.runtimeLogging !== false) return []
    return [{ status: 'fail', subjectKey: '', evidence: { runtimeLogging: false, agentPlatform: input.classification.platform } }]
  },
})
