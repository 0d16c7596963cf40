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
  // a checksum file whose digest a verified signed index gave (Debian: SHA256SUMS listed in InRelease)
  signedSums?: { url: string; sha256: string; size: number; signer: string; index: string };
}
