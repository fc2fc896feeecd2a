import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * Runs `src/main.ts` through tsx (the program `npm start` compiles and runs), with only PATH, HOME and `env`, `stdin` piped in;
 * resolves when it exits.
 */
export function runMain(
  env: Record<string, string>,
  stdin = '',
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return runCommand([process.execPath, '--import', 'tsx', 'src/main.ts'], env, stdin);
}

/** Runs `command` in the repository with only PATH, HOME and `env`, `stdin` piped in; resolves when it exits. */
export async function runCommand(
  [file, ...args]: readonly [string, ...string[]],
  env: Record<string, string>,
  stdin = '',
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(file, args, {
    cwd: fileURLToPath(new URL('../../', import.meta.url)),
    env: { PATH: process.env['PATH'], HOME: process.env['HOME'], ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => {
    stdout += String(d);
  });
  child.stderr.on('data', (d) => {
    stderr += String(d);
  });
  child.stdin.end(stdin);
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  return { code, stdout, stderr };
}
