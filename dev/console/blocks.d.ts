// Types for blocks.js (a plain ES module shared by the console page and Node).
import type { MrkdwnOptions } from './mrkdwn.js';

export interface ConsoleMessage {
  ts: string;
  threadTs?: string;
  user?: string;
  userName?: string;
  isBot?: boolean;
  text?: string;
  blocks?: unknown[];
  ephemeral?: boolean;
  edited?: boolean;
  replyCount?: number;
}
export interface RenderContext extends MrkdwnOptions {
  /** Rendering inside the thread pane (no reply count / reply button). */
  inThread?: boolean;
}
export declare function elementHtml(el: unknown, blockId: string | undefined, ctx?: RenderContext): string;
export declare function blockHtml(block: unknown, ctx?: RenderContext): string;
export declare function messageBodyHtml(message: { text?: string; blocks?: unknown[] }, ctx?: RenderContext): string;
export declare function messageHtml(m: ConsoleMessage, ctx?: RenderContext): string;
