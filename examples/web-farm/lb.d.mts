// Types for lb.mjs (imported by src/demo/farm.ts).
export type ServerAdminState = 'drain' | 'ready' | 'maint';

export interface LbClient {
  kind: 'haproxy' | 'mini-lb';
  setState(server: string, state: ServerAdminState): Promise<void>;
  /** Server name → UP | DOWN | DRAIN | MAINT | NOLB | … */
  states(): Promise<Record<string, string>>;
  state(server: string): Promise<string>;
  sessions(server: string): Promise<number>;
}

export function lbClient(opts: { socket?: string; adminUrl?: string; backend?: string }): LbClient;
export function haproxyCommand(socketPath: string, command: string, timeoutMs?: number): Promise<string>;
export function parseShowStat(text: string): Array<Record<string, string>>;
export function normaliseStatus(status: string): string;
export function main(argv?: string[], env?: NodeJS.ProcessEnv): Promise<number>;
