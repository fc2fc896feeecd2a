import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const schemaPath = new URL('../fixtures/slack-manifest.schema.1.0.0.json', import.meta.url);
const manifestPath = new URL('../../manifest.yml', import.meta.url);

describe('manifest.yml', () => {
  const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false });
  const validate = ajv.compile(JSON.parse(readFileSync(schemaPath, 'utf8')) as object);
  const manifest = parse(readFileSync(manifestPath, 'utf8')) as Record<string, unknown>;

  it("is valid against Slack's published manifest schema 1.0.0", () => {
    const valid = validate(manifest);
    expect(validate.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
  });

  it('declares the /nasha command with a usage hint', () => {
    const features = manifest['features'] as { slash_commands: Array<{ command: string; usage_hint?: string }> };
    const nasha = features.slash_commands.find((c) => c.command === '/nasha');
    expect(nasha?.usage_hint).toMatch(/snapshot/);
  });

  it('asks for the fewest bot scopes that work, with interactivity on', () => {
    const oauth = manifest['oauth_config'] as { scopes: { bot: string[] } };
    expect(oauth.scopes.bot.sort()).toEqual([
      'channels:history',
      'chat:write',
      'commands',
      'groups:history',
      'im:history',
      'im:write',
      'usergroups:read',
      'users:read',
    ]);
    const settings = manifest['settings'] as { interactivity: { is_enabled: boolean } };
    expect(settings.interactivity.is_enabled).toBe(true);
  });

  it('has the Home tab on and app_home_opened subscribed, valid in HTTP mode too (as README.md says to edit it)', () => {
    const features = manifest['features'] as { app_home?: { home_tab_enabled?: boolean } };
    expect(features.app_home?.home_tab_enabled).toBe(true);
    const settings = manifest['settings'] as Record<string, Record<string, unknown>>;
    expect(settings['event_subscriptions']?.['bot_events']).toEqual(['app_home_opened']);
    const url = 'https://nasha.example.com/slack/events';
    const http = structuredClone(manifest) as {
      features: { slash_commands: Array<Record<string, unknown>> };
      settings: Record<string, Record<string, unknown> | boolean>;
    };
    http.settings['socket_mode_enabled'] = false;
    for (const command of http.features.slash_commands) command['url'] = url;
    Object.assign(http.settings['interactivity'] as object, { request_url: url, message_menu_options_url: url });
    Object.assign(http.settings['event_subscriptions'] as object, { request_url: url });
    expect(validate(http), JSON.stringify(validate.errors)).toBe(true);
  });

  it('is rejected by the schema when broken (the check can fail)', () => {
    expect(validate({ display_information: { name: 'x' }, features: { slash_commands: [{ command: 'nasha' }] } })).toBe(
      false,
    );
  });
});
