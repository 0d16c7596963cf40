declare const XEPA_VERSION: string | undefined;

// The XEPA version (agent and controller ship together), injected by the bundler; "dev" when running from source.
export const VERSION: string = typeof XEPA_VERSION === 'string' ? XEPA_VERSION : 'dev';
