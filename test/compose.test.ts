// No Docker engine here: check docker-compose.yml by parsing it.
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';

const compose = YAML.parse(readFileSync('docker-compose.yml', 'utf8')) as {
  services: Record<string, { image?: string; build?: string; command?: string[]; environment?: Record<string, string>; depends_on?: unknown }>;
};

describe('docker-compose.yml', () => {
  it('runs Temporal on PostgreSQL, its UI, the worker and the bot', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['bot', 'postgresql', 'temporal', 'temporal-ui', 'worker']);
    expect(compose.services.temporal?.environment?.DB).toMatch(/^postgres/);
    expect(compose.services.temporal?.environment?.POSTGRES_SEEDS).toBe('postgresql');
    expect(compose.services['temporal-ui']?.environment?.TEMPORAL_ADDRESS).toBe('temporal:7233');
  });

  it('worker and bot run the CLI against the compose Temporal with a mounted config', () => {
    for (const name of ['worker', 'bot'] as const) {
      const s = compose.services[name]!;
      expect(s.build).toBe('.');
      expect(s.command?.slice(0, 2)).toEqual(['node', 'bin/rollout.mjs']);
      expect(s.environment?.TEMPORAL_ADDRESS).toBe('temporal:7233');
      expect(s.environment?.ROLLOUT_CONFIG).toBe('/config/rollout.yaml');
    }
    expect(compose.services.worker?.command?.[2]).toBe('worker');
    expect(compose.services.bot?.command?.[2]).toBe('bot');
    expect(compose.services.bot?.environment?.SLACK_BOT_TOKEN).toBe('${SLACK_BOT_TOKEN}');
    expect(existsSync('Dockerfile')).toBe(true);
    expect(readFileSync('Dockerfile', 'utf8')).toMatch(/FROM node:24/);
  });
});

describe('slack-app-manifest.yaml', () => {
  const manifest = YAML.parse(readFileSync('slack-app-manifest.yaml', 'utf8')) as {
    features: { slash_commands: Array<{ command: string }> };
    oauth_config: { scopes: { bot: string[] } };
    settings: { interactivity: { is_enabled: boolean }; event_subscriptions: { bot_events: string[] }; socket_mode_enabled: boolean };
  };
  it('declares /rollout, interactivity, the events and only the scopes the bot uses', () => {
    expect(manifest.features.slash_commands.map((c) => c.command)).toEqual(['/rollout']);
    expect(manifest.settings.interactivity.is_enabled).toBe(true);
    expect(manifest.settings.event_subscriptions.bot_events.sort()).toEqual(['app_mention', 'message.channels', 'message.groups']);
    expect(manifest.oauth_config.scopes.bot.sort()).toEqual(
      ['app_mentions:read', 'channels:history', 'chat:write', 'commands', 'groups:history', 'usergroups:read'].sort(),
    );
    expect(manifest.settings.socket_mode_enabled).toBe(true);
  });
});
