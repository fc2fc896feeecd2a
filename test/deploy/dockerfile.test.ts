import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Copy, DockerfileParser, type Entrypoint, type Healthcheck, type Instruction } from 'dockerfile-ast';
import { afterEach, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { healthzUrl, parseAppEnv, SECRET_VARIABLES } from '../../src/config/env.js';
import { probeHealthz } from '../../src/ops/healthcheck.js';
import { type BotHarness, startBotHarness, TEST_CONFIG_NO_APPROVALS } from '../support/bot-harness.js';

/**
 * CI cannot run Docker here, so the image is checked by reading its Dockerfile with a maintained parser
 * (dockerfile-ast, the parser of the Docker language server) against what the tests run: the entry point,
 * the user, the port, the data volume and the health check (the last one probed against a real bot).
 */
const root = fileURLToPath(new URL('../../', import.meta.url));
const dockerfile = DockerfileParser.parse(readFileSync(join(root, 'Dockerfile'), 'utf8'));

interface Stage {
  name: string | null;
  image: string;
  instructions: Instruction[];
}

/** Instructions grouped by stage, in order; the image with the initial ARGs' defaults put in. */
function stages(): Stage[] {
  const defaults = new Map(
    dockerfile.getInitialARGs().map((arg) => [arg.getProperty()?.getName() ?? '', arg.getProperty()?.getValue() ?? '']),
  );
  const result: Stage[] = [];
  for (const instruction of dockerfile.getInstructions()) {
    if (instruction.getKeyword() === 'FROM') {
      const [image = '', as, name] = instruction.getArguments().map((a) => a.getValue());
      result.push({
        name: as?.toUpperCase() === 'AS' ? (name ?? null) : null,
        image: image.replace(/^\$\{(\w+)\}$/, (_, arg: string) => defaults.get(arg) ?? ''),
        instructions: [],
      });
    } else result.at(-1)?.instructions.push(instruction);
  }
  return result;
}

const all = stages();
const runtime = all.at(-1) as Stage;
const keyword = (stage: Stage, name: string) => stage.instructions.filter((i) => i.getKeyword() === name);
const one = (stage: Stage, name: string): Instruction => {
  const found = keyword(stage, name);
  expect(found, name).toHaveLength(1);
  return found[0] as Instruction;
};
const words = (instruction: Instruction) => instruction.getArguments().map((a) => a.getValue());
/** ENV of the image: KEY=value pairs of the final stage. */
const imageEnv = (): Record<string, string> =>
  Object.fromEntries(
    keyword(runtime, 'ENV')
      .flatMap(words)
      .map((pair) => pair.split('=', 2) as [string, string]),
  );

/** The source file tsc compiles to `dist/<path>.js` (tsconfig.build.json: rootDir src, outDir dist). */
function sourceOf(distPath: string): string {
  expect(distPath).toMatch(/^dist\/.+\.js$/);
  return join(root, distPath.replace(/^dist\//, 'src/').replace(/\.js$/, '.ts'));
}

describe('Dockerfile', () => {
  it('is multi-stage on the official Node 20 image, installing from the lock file', () => {
    expect(all.length).toBeGreaterThanOrEqual(3);
    expect(runtime.image).toMatch(/^node:20(-[a-z0-9.-]+)?$/);
    const runs = all.flatMap((stage) => keyword(stage, 'RUN').map((i) => i.getArgumentsContent() ?? ''));
    expect(runs.some((run) => /\bnpm ci\b(?! --omit)/.test(run))).toBe(true);
    expect(runs.some((run) => /\bnpm ci --omit=dev\b/.test(run))).toBe(true);
    expect(runs.some((run) => /\bnpm (install|i)\b/.test(run))).toBe(false);
    for (const stage of all.slice(0, -1)) {
      // Every install copies the lock file first.
      if (keyword(stage, 'RUN').some((i) => /\bnpm ci\b/.test(i.getArgumentsContent() ?? ''))) {
        expect(keyword(stage, 'COPY').flatMap(words)).toContain('package-lock.json');
      }
    }
  });

  it('ships only the compiled output and the production node_modules', () => {
    const copies = keyword(runtime, 'COPY') as Copy[];
    const sources = copies.map((copy) => ({ from: copy.getFromFlag()?.getValue() ?? null, what: words(copy)[0] }));
    expect(sources).toEqual(
      expect.arrayContaining([
        { from: 'build', what: '/app/dist' },
        { from: 'deps', what: '/app/node_modules' },
      ]),
    );
    const deps = all.find((stage) => stage.name === 'deps') as Stage;
    expect(keyword(deps, 'RUN').map((i) => i.getArgumentsContent())).toEqual(
      expect.arrayContaining([expect.stringContaining('npm ci --omit=dev')]),
    );
    // Nothing else from the build context than package.json: no src/, no tsconfig, no tests.
    expect(sources.filter((s) => s.from === null).map((s) => s.what)).toEqual(['package.json']);
    expect(keyword(runtime, 'RUN').map((i) => i.getArgumentsContent() ?? '')).not.toEqual(
      expect.arrayContaining([expect.stringMatching(/npm|tsc|tsx/)]),
    );
  });

  it('starts the entry point `npm start` runs, with node as PID 1 receiving SIGTERM', () => {
    const entrypoint = one(runtime, 'ENTRYPOINT') as Entrypoint;
    const argv = entrypoint.getJSONStrings().map((s) => s.getJSONValue());
    expect(argv).toEqual(['node', 'dist/main.js']);
    expect(existsSync(sourceOf(argv[1] ?? ''))).toBe(true);
    const start = z
      .object({ scripts: z.object({ start: z.string() }) })
      .parse(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))).scripts.start;
    expect(start.endsWith(`&& ${argv.join(' ')}`)).toBe(true);
    expect(keyword(runtime, 'CMD')).toEqual([]);
    expect(words(one(runtime, 'STOPSIGNAL'))).toEqual(['SIGTERM']);
    // The process that gets SIGTERM is the one that handles it: main.ts drains on SIGTERM.
    expect(readFileSync(join(root, 'src/main.ts'), 'utf8')).toContain("process.on('SIGTERM'");
  });

  it('runs as an unprivileged user with NASHA_DATA_DIR on a volume', () => {
    const user = words(one(runtime, 'USER'))[0] ?? '';
    expect(user).not.toMatch(/^(root|0)(:|$)/);
    expect(user).toBe('node');
    const env = imageEnv();
    const volume = z.array(z.string()).parse(JSON.parse(one(runtime, 'VOLUME').getArgumentsContent() ?? ''));
    expect(volume).toContain(env['NASHA_DATA_DIR']);
    expect(keyword(runtime, 'RUN').map((i) => i.getArgumentsContent())).toEqual(
      expect.arrayContaining([expect.stringContaining(`chown ${user}:${user} ${env['NASHA_DATA_DIR']}`)]),
    );
  });

  it('exposes the ports the bot serves with the image environment', () => {
    const env = imageEnv();
    const exposed = words(one(runtime, 'EXPOSE')).map(Number);
    // The image's environment plus credentials is a valid configuration, serving on what is exposed.
    const parsed = parseAppEnv({
      ...env,
      SLACK_BOT_TOKEN: 'xoxb-test',
      SLACK_SIGNING_SECRET: 'secret',
      OVH_ENDPOINT: 'ovh-eu',
      OVH_APP_KEY: 'key',
      OVH_APP_SECRET: 'secret',
      OVH_CONSUMER_KEY: 'consumer',
    });
    expect(exposed).toContain(parsed.port);
    expect(exposed).toContain(parsed.healthPort);
    expect(parsed.dataDir).toBe(env['NASHA_DATA_DIR']);
    expect(parsed.host).toBe('0.0.0.0');
  });
});

describe('the image HEALTHCHECK', () => {
  let h: BotHarness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  const check = () => one(runtime, 'HEALTHCHECK') as Healthcheck;

  it('runs dist/ops/healthcheck.js, which probes /healthz on the port of the mode', () => {
    expect(check().getSubcommand()?.getValue()).toBe('CMD');
    const json = (check().getArgumentsContent() ?? '').replace(/^.*?\bCMD\s+/, '');
    const argv = z.array(z.string()).parse(JSON.parse(json));
    expect(argv).toEqual(['node', 'dist/ops/healthcheck.js']);
    expect(existsSync(sourceOf(argv[1] ?? ''))).toBe(true);
    const env = imageEnv();
    expect(healthzUrl(env)).toBe(`http://127.0.0.1:${env['PORT']}/healthz`);
    expect(healthzUrl({ ...env, SLACK_APP_TOKEN_FILE: '/run/secrets/slack_app_token' })).toBe(
      `http://127.0.0.1:${env['HEALTH_PORT']}/healthz`,
    );
    const flags = Object.fromEntries(
      check()
        .getFlags()
        .map((f) => [f.getName(), f.getValue()]),
    );
    // Long enough for startup to check Slack, OVH and the database (NASHA_STARTUP_TIMEOUT_MS, 30 s by default).
    expect(flags['start-period']).toBe('60s');
  });

  it('passes against a running bot and fails once it is gone', async () => {
    h = await startBotHarness({ config: TEST_CONFIG_NO_APPROVALS });
    const url = healthzUrl({ PORT: String(h.bot.port) });
    expect(await probeHealthz(url)).toEqual({ healthy: true, detail: 'HTTP 200 {"ok":true}' });
    await h.close();
    h = undefined;
    const after = await probeHealthz(url);
    expect(after.healthy).toBe(false);
    expect(after.detail).toMatch(/ECONNREFUSED/);
  });
});

describe('compose.yaml', () => {
  const ComposeSchema = z.object({
    services: z.object({
      postgres: z.object({ image: z.string() }),
      bot: z.object({
        build: z.string(),
        deploy: z.object({ replicas: z.number() }),
        environment: z.record(z.string(), z.string()),
        stop_grace_period: z.string(),
      }),
    }),
  });
  const compose = ComposeSchema.parse(parseYaml(readFileSync(join(root, 'compose.yaml'), 'utf8')));
  const bot = compose.services.bot;

  it('runs several bot replicas built from this Dockerfile on PostgreSQL', () => {
    expect(bot.build).toBe('.');
    expect(bot.deploy.replicas).toBeGreaterThanOrEqual(2);
    expect(compose.services.postgres.image).toMatch(/^postgres:\d+/);
    expect(bot.environment['DATABASE_URL_FILE']).toMatch(/^\/run\/secrets\//);
    // Longer than the bot's own 20 s bound on a graceful shutdown.
    expect(Number.parseInt(bot.stop_grace_period, 10)).toBeGreaterThan(20);
  });

  it('gives secrets as files only, under names the bot reads', () => {
    for (const [name, value] of Object.entries(bot.environment)) {
      const secret = (SECRET_VARIABLES as readonly string[]).includes(name.replace(/_FILE$/, ''));
      if (secret) expect(name, `${name} must be given as a file`).toMatch(/_FILE$/);
      if (name.endsWith('_FILE')) expect(value).toMatch(/^\/run\/secrets\//);
    }
  });
});
