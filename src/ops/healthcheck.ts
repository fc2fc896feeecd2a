import { request } from 'node:http';
import { pathToFileURL } from 'node:url';
import { healthzUrl } from '../config/env.js';

/**
 * `node dist/ops/healthcheck.js`: the container image's HEALTHCHECK. Asks the bot's `/healthz` on this host
 * (the port its mode serves it on) and exits 0 only for `{"ok":true}`; never hangs past `timeoutMs`.
 */
export function probeHealthz(url: string, timeoutMs = 3_000): Promise<{ healthy: boolean; detail: string }> {
  return new Promise((resolve) => {
    const req = request(url, { method: 'GET', timeout: timeoutMs, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        if (body.length < 1_024) body += chunk;
      });
      res.on('end', () => {
        const healthy = res.statusCode === 200 && body.trim() === '{"ok":true}';
        resolve({ healthy, detail: `HTTP ${res.statusCode ?? 0} ${body.trim().slice(0, 200)}` });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (error) => resolve({ healthy: false, detail: error.message }));
    req.end();
  });
}

async function main(): Promise<void> {
  let url: string;
  try {
    url = healthzUrl(process.env);
  } catch (error) {
    process.stderr.write(`healthcheck: ${(error as Error).message}\n`);
    process.exit(2);
  }
  const { healthy, detail } = await probeHealthz(url);
  process.stdout.write(`${url}: ${detail}\n`);
  process.exit(healthy ? 0 : 1);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  void main();
}
