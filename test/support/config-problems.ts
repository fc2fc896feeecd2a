import { expect } from 'vitest';
import { ConfigError, parseBotConfig } from '../../src/config/bot-config.js';

/** The problems of an invalid config named `nasha.yml` (fails the test if it parses). */
export function configProblems(text: string): readonly string[] {
  try {
    parseBotConfig(text, 'nasha.yml');
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}
