import { pathToFileURL } from 'node:url';
import { type RunningBot, startBot } from './compose.js';
import { type AppEnv, parseAppEnv } from './config/env.js';
import { conflictingCredentialsMessage, incompleteCredentialsMessage, selectRunMode } from './config/mode.js';
import { ConfigError } from './shared/config-error.js';
import { createLogger } from './shared/logger.js';
import { StartupError } from './shared/startup-error.js';

/** The CLI (`npm start`): environment → sandbox or `startBot` → signals. The composition root is compose.ts. */
async function main(): Promise<void> {
  // No credential at all: the sandbox. Some but not all: refuse, never fall back to the sandbox.
  const mode = selectRunMode(process.env);
  if (mode.kind === 'incomplete' || mode.kind === 'conflicting') {
    const message =
      mode.kind === 'incomplete' ? incompleteCredentialsMessage(mode) : conflictingCredentialsMessage(mode);
    process.stderr.write(`${message}\n`);
    process.exit(2);
  }
  if (mode.kind === 'sandbox') {
    const { runSandboxCli } = await import('./sandbox/index.js');
    process.exit(await runSandboxCli(process.env));
  }
  let env: AppEnv;
  try {
    env = parseAppEnv(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const logger = createLogger({ level: env.logLevel });
  // Defence in depth for a server: a promise some library forgot to handle (Bolt's HTTPReceiver does
  // not catch a signed `payload=null`) is logged, not a reason to drop every other request.
  process.on('unhandledRejection', (reason) =>
    logger.error({ err: reason }, 'unhandled promise rejection; still running'),
  );
  let bot: RunningBot;
  try {
    bot = await startBot(env, { logger });
  } catch (error) {
    // A setting or a dependency: the clean message, once, on stderr (no stack: nothing to debug in the code).
    if (error instanceof ConfigError || error instanceof StartupError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(error instanceof ConfigError ? 2 : 1);
    }
    // Anything else is a bug: the stack goes to the log.
    logger.fatal({ err: error }, 'startup failed');
    process.stderr.write('nasha-bot could not start: unexpected error (see the "startup failed" log line)\n');
    process.exit(1);
  }
  let signals = 0;
  const shutdown = (signal: string) => {
    signals++;
    if (signals > 1) process.exit(1);
    logger.info({ signal }, 'shutting down');
    // Bounded: a connection that never ends (e.g. a request Bolt never answers) must not hold the exit.
    const bound = setTimeout(() => {
      logger.error('shutdown took over 20 s; exiting anyway');
      process.exit(1);
    }, 20_000);
    bound.unref();
    void bot.stop().then(() => process.exit(0));
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  void main();
}
