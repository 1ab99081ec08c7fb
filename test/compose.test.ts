// No Docker engine here: check docker-compose.yml by parsing it.
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { WORKER_ENV, WORKER_NODE_FLAGS } from '../src/temporal/worker';
import { TEMPORAL_SERVER_VERSION } from './cluster/version';

interface Service {
  image?: string;
  build?: string;
  command?: string[];
  entrypoint?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
  ports?: string[];
  healthcheck?: { test: string[] };
  container_name?: string;
  volumes?: string[];
}
const composeText = readFileSync('docker-compose.yml', 'utf8');
const compose = YAML.parse(composeText) as { services: Record<string, Service> };
const svc = (name: string): Service => {
  const s = compose.services[name];
  if (!s) throw new Error(`no service ${name}`);
  return s;
};

describe('docker-compose.yml', () => {
  it("follows Temporal's current layout: PostgreSQL, a schema job, the server, a namespace job, the UI, worker and bot", () => {
    expect(Object.keys(compose.services).sort()).toEqual(
      ['bot', 'postgresql', 'temporal', 'temporal-namespace', 'temporal-schema', 'temporal-ui', 'worker'].sort(),
    );
    expect(svc('temporal').image).toMatch(/^temporalio\/server:/);
    expect(composeText).not.toMatch(/auto-setup/);
    expect(svc('temporal').environment?.DB).toMatch(/^postgres/);
    expect(svc('temporal').environment?.POSTGRES_SEEDS).toBe('postgresql');
    expect(svc('temporal-schema').image).toMatch(/^temporalio\/admin-tools:/);
    expect(svc('temporal').depends_on?.['temporal-schema']?.condition).toBe('service_completed_successfully');
    expect(svc('temporal-namespace').environment?.TEMPORAL_RETENTION).toBe('30d');
    expect(svc('temporal-ui').environment?.TEMPORAL_ADDRESS).toBe('temporal:7233');
  });

  it('pins every image, and the server version is the one the engine tests build', () => {
    for (const [name, s] of Object.entries(compose.services)) {
      if (s.build) continue;
      expect(s.image, name).toMatch(/^[a-z0-9./_-]+:\d+(\.\d+)+$/);
    }
    const version = TEMPORAL_SERVER_VERSION.replace(/^v/, '');
    expect(svc('temporal').image).toBe(`temporalio/server:${version}`);
    expect(svc('temporal-schema').image).toBe(`temporalio/admin-tools:${version}`);
    expect(svc('temporal-namespace').image).toBe(`temporalio/admin-tools:${version}`);
  });

  it('requires its secrets with ${VAR:?message} and binds published ports to 127.0.0.1', () => {
    for (const v of ['POSTGRES_PASSWORD', 'SLACK_BOT_TOKEN', 'SLACK_APP_TOKEN']) {
      expect(composeText).toMatch(new RegExp(`\\$\\{${v}:\\?[^}]+\\}`));
    }
    // No secret falls back to a default silently.
    expect(composeText).not.toMatch(/\$\{(POSTGRES_PASSWORD|SLACK_BOT_TOKEN|SLACK_APP_TOKEN)(:-|-)/);
    for (const [name, s] of Object.entries(compose.services)) {
      for (const p of s.ports ?? []) expect(p, name).toMatch(/^127\.0\.0\.1:/);
    }
  });

  it('worker and bot run the CLI against the compose Temporal with a mounted config, with healthchecks', () => {
    for (const name of ['worker', 'bot'] as const) {
      const s = svc(name);
      expect(s.build).toBe('.');
      // The worker runs with its Node flags (WORKER_NODE_FLAGS), the bot with Node's defaults.
      const flags = name === 'worker' ? WORKER_NODE_FLAGS : [];
      expect(s.command?.slice(0, 2 + flags.length)).toEqual(['node', ...flags, 'bin/rollout.mjs']);
      expect(s.environment?.TEMPORAL_ADDRESS).toBe('temporal:7233');
      expect(s.environment?.ROLLOUT_CONFIG).toBe('/config/rollout.yaml');
      expect(s.healthcheck?.test.join(' ')).toMatch(/\/readyz/);
    }
    expect(svc('worker').command?.at(-1)).toBe('worker');
    // and with its environment (WORKER_ENV: glibc's malloc arenas capped)
    for (const [k, v] of Object.entries(WORKER_ENV)) expect(svc('worker').environment?.[k], k).toBe(v);
    expect(svc('bot').command?.[2]).toBe('bot');
    // Scalable: no fixed name, no published port.
    expect(svc('worker').container_name).toBeUndefined();
    expect(svc('worker').ports).toBeUndefined();
    for (const script of ['deploy/temporal/setup-postgres.sh', 'deploy/temporal/create-namespace.sh']) {
      expect(existsSync(script), script).toBe(true);
    }
  });
});

describe('docker-compose.yml and the processes it runs', () => {
  it("healthchecks probe the ports the worker and the bot serve /readyz on; the worker's metrics port is set", () => {
    const worker = svc('worker');
    expect(worker.healthcheck?.test.join(' ')).toContain(`:${worker.environment?.ROLLOUT_HEALTH_PORT}/readyz`);
    expect(worker.environment?.ROLLOUT_METRICS_PORT).toMatch(/^\d+$/);
    const bot = svc('bot');
    expect(bot.healthcheck?.test.join(' ')).toContain(`:${bot.environment?.PORT}/readyz`);
  });
});

describe('Dockerfile', () => {
  const dockerfile = readFileSync('Dockerfile', 'utf8');
  const ignore = existsSync('.dockerignore')
    ? readFileSync('.dockerignore', 'utf8')
        .split('\n')
        .map((l) => l.trim())
    : [];
  it('pins Node 24, runs as a non-root user, installs production dependencies deterministically', () => {
    expect(dockerfile).toMatch(/^FROM node:24\.\d+\.\d+-[a-z]+-slim AS base$/m);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/npm ci --omit=dev/);
    expect(dockerfile).not.toMatch(/npm install/);
  });
  it("runs the worker with the worker's Node flags", () => {
    const cmd = /^CMD (\[.*\])$/m.exec(dockerfile)?.[1];
    expect(JSON.parse(cmd ?? '[]')).toEqual(['node', ...WORKER_NODE_FLAGS, 'bin/rollout.mjs', 'worker']);
    for (const [k, v] of Object.entries(WORKER_ENV)) expect(dockerfile).toMatch(new RegExp(`^ENV ${k}=${v}$`, 'm'));
  });
  it('bundles the workflows at build time and points the worker at the bundle', () => {
    expect(dockerfile).toMatch(/rollout\.mjs bundle \/app\/dist\/workflows\.js/);
    expect(dockerfile).toMatch(/ROLLOUT_WORKFLOW_BUNDLE=\/app\/dist\/workflows\.js/);
  });
  it('keeps secrets, state, dependencies and history out of the build context', () => {
    for (const entry of ['.env', 'node_modules/', '.git/', '.rollout/', 'secrets/', '*.pem', '*.key']) {
      expect(ignore, entry).toContain(entry);
    }
  });
});

describe('slack-app-manifest.yaml', () => {
  const manifest = YAML.parse(readFileSync('slack-app-manifest.yaml', 'utf8')) as {
    features: { slash_commands: Array<{ command: string }> };
    oauth_config: { scopes: { bot: string[] } };
    settings: {
      interactivity: { is_enabled: boolean };
      event_subscriptions: { bot_events: string[] };
      socket_mode_enabled: boolean;
    };
  };
  it('declares /rollout, interactivity, the events and only the scopes the bot uses', () => {
    expect(manifest.features.slash_commands.map((c) => c.command)).toEqual(['/rollout']);
    expect(manifest.settings.interactivity.is_enabled).toBe(true);
    expect(manifest.settings.event_subscriptions.bot_events.sort()).toEqual([
      'app_mention',
      'message.channels',
      'message.groups',
    ]);
    expect(manifest.oauth_config.scopes.bot.sort()).toEqual(
      ['app_mentions:read', 'channels:history', 'chat:write', 'commands', 'groups:history', 'usergroups:read'].sort(),
    );
    expect(manifest.settings.socket_mode_enabled).toBe(true);
  });
  it('carries no placeholder URLs in Socket Mode', () => {
    expect(readFileSync('slack-app-manifest.yaml', 'utf8')).not.toMatch(/^\s*(url|request_url):/m);
  });
});
