// The answers a human can give, defined once: the workflow's validator, the Slack buttons, the CLI's argument
// check and the action map all derive from these lists.

/** Answers to a failed target (guided failure). */
export const FAILURE_CHOICES = ['fail', 'retry', 'ignore', 'exclude'] as const;
/** Answers to a manual intervention step. */
export const MANUAL_CHOICES = ['proceed', 'abort'] as const;
/** Every answer, in the order the CLI's help lists them. */
export const DECISION_CHOICES = [...FAILURE_CHOICES, ...MANUAL_CHOICES] as const;

export type FailureChoice = (typeof FAILURE_CHOICES)[number];
export type ManualChoice = (typeof MANUAL_CHOICES)[number];
export type DecisionChoice = (typeof DECISION_CHOICES)[number];

const KNOWN: ReadonlySet<string> = new Set(DECISION_CHOICES);
export function isDecisionChoice(s: unknown): s is DecisionChoice {
  return typeof s === 'string' && KNOWN.has(s);
}
