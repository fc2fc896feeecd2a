// node-ovh 3.0.0 ships no types (ovh/node-ovh#41): this declares only what src/ovh/transport.ts uses.
declare module '@ovhcloud/node-ovh' {
  export interface OvhClientOptions {
    appKey: string;
    appSecret: string;
    consumerKey?: string;
    host?: string;
    port?: number;
    basePath?: string;
    timeout?: number;
    apiTimeDiff?: number;
  }
  /** node-ovh calls back with an HTTP status, a negative errno, a string or an Error. */
  export type OvhCallbackError = number | string | Error | { error?: unknown; message?: unknown } | null;
  export interface OvhClient {
    /** Seconds to add to the local clock; `null` makes node-ovh fetch /auth/time first. */
    apiTimeDiff: number | null;
    request(
      method: string,
      path: string,
      /** Query parameters (GET, DELETE) or the JSON body (POST, PUT: nested values allowed). */
      params: Record<string, unknown>,
      callback: (error: OvhCallbackError, response: unknown) => void,
    ): Promise<void>;
  }
  function ovh(options: OvhClientOptions): OvhClient;
  export default ovh;
}

declare module '@ovhcloud/node-ovh/lib/endpoints.js' {
  const endpoints: Readonly<Record<string, { host: string; tokenURL?: string }>>;
  export default endpoints;
}
