// Upstream access for the updater: release sources (JSON API, directory listing, feed), checksum files, downloads.
export { listUpstreamReleases } from './sources.js';
export { planRelease, releaseVars, type DownloadPlan, type ExtractPlan, type GivenFile, type ReleasePlan } from './plan.js';
export { downloadVerified, type DownloadOptions } from './download.js';
export { extractTarMembers } from './tar.js';
export { fetchText, type FetchFn, type TextRequest } from './http.js';
export { parseSums, parseSingleSum, parseAssetDigest, type Digest } from './checksums.js';
export { compareVersions, pickLatest } from './versions.js';
export { parseJsonApi } from './json-api.js';
export { parseDirectoryListing } from './directory-listing.js';
export { parseReleaseFeed } from './release-feed.js';
export type { UpstreamRelease, UpstreamAsset } from './release.js';
