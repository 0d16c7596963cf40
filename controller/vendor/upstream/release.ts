// What a release source reports: the versions upstream publishes, and for JSON APIs the assets of each.

// One asset of a release: where to download it and, when the API says, its digest as printed.
export interface UpstreamAsset {
  url: string;
  digest?: unknown;
}

// One release upstream publishes.
export interface UpstreamRelease {
  version: string;
  assets?: Map<string, UpstreamAsset>;
}
