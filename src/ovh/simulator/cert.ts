import { generate } from 'selfsigned';

export interface LoopbackCertificate {
  certPem: string;
  keyPem: string;
}

const DAY_MS = 86_400_000;

/**
 * A throw-away self-signed certificate for 127.0.0.1 / localhost. It is its own CA (clients pass it
 * as `ca`, `NODE_EXTRA_CA_CERTS` or `curl --cacert`). EC keeps generation to a few milliseconds.
 */
export async function generateLoopbackCertificate(now: number = Date.now()): Promise<LoopbackCertificate> {
  const pems = await generate([{ name: 'commonName', value: '127.0.0.1' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    // A day of slack on each side absorbs clock skew between this process and its clients.
    notBeforeDate: new Date(now - DAY_MS),
    notAfterDate: new Date(now + 3 * DAY_MS),
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', digitalSignature: true, keyCertSign: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 7, ip: '127.0.0.1' },
          { type: 2, value: 'localhost' },
        ],
      },
    ],
  });
  return { certPem: pems.cert, keyPem: pems.private };
}
