// node-ovh 3.0.0 ships no types (ovh/node-ovh#41): this declares only what src/ovh/transport.ts uses.
declare module '@ovhcloud/node-ovh' {
  interface OvhConnectionOptions {
    host?: string;
    port?: number;
    basePath?: string;
    timeout?: number;
    apiTimeDiff?: number;
  }
  /** Application key mode (signed requests), or OAuth2 client credentials (Bearer tokens): never both. */
  export type OvhClientOptions = OvhConnectionOptions &
    (
      | { appKey: string; appSecret: string; consumerKey?: string }
      | { clientID: string; clientSecret: string; tokenURL: string }
    );
  /** A simple-oauth2 AccessToken, as node-ovh reads it. */
  export interface OvhAccessToken {
    token: { access_token: string };
    expired(withinSeconds?: number): boolean;
  }
  /** node-ovh calls back with an HTTP status, a negative errno, a string or an Error. */
  export type OvhCallbackError = number | string | Error | { error?: unknown; message?: unknown } | null;
  export interface OvhClient {
    /** Seconds to add to the local clock; `null` makes node-ovh fetch /auth/time first. */
    apiTimeDiff: number | null;
    /** OAuth2 mode: the token node-ovh sends; it fetches one from `oauthClient` when absent or `expired(10)`. */
    accessToken?: OvhAccessToken;
    oauthClient?: { getToken(params: { scope: string }): Promise<OvhAccessToken> };
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
