// Links into the Temporal Web UI: a workflow's page lives under its namespace, so every link names the one the
// rollout runs in (never an assumed `default`).

export const DEFAULT_NAMESPACE = 'default';

/** `<base>/namespaces/<namespace>/workflows/<workflowId>`, each part percent-encoded. */
export function workflowUiUrl(base: string, namespace: string, workflowId: string): string {
  // `|`, `<`, `>` and spaces would end a Slack mrkdwn link early; the base is configuration, the rest is encoded.
  const b = base.replace(/\/+$/, '').replace(/[|<>\s]/g, encodeURIComponent);
  return `${b}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}`;
}
