// Types for mrkdwn.js (a plain ES module shared by the console page and Node).
export interface MrkdwnOptions {
  /** user id → display name, for `<@U…>` mentions */
  users?: Record<string, string>;
  /** channel id → name, for `<#C…>` mentions */
  channels?: Record<string, string>;
}
export declare const EMOJI: Record<string, string>;
export declare function escapeHtml(s: unknown): string;
export declare function decodeEntities(s: unknown): string;
export declare function mrkdwnToHtml(text: string | undefined | null, opts?: MrkdwnOptions): string;
export declare function plainTextToHtml(text: string | undefined | null, emoji?: boolean): string;
export declare function textObjectToHtml(obj: unknown, opts?: MrkdwnOptions): string;
