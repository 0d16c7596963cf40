// Rescue boot from the controller: hosts registered with a one-time enrolment token, their iPXE script and apkovl,
// and the enrolment that pins the booted agent (docs/injection.md, "Netboot").
export { addRescueHost, removeRescueHost, readRescueHosts, redeemToken, isPending, rescuePath, RESCUE_FILE, NetbootSource, RescueHost } from './rescue-hosts.js';
export { rescueIpxeScript, rescueApkovl, rescuePaths } from './rescue-artifacts.js';
export { createRescueMount, type RescueMountOptions } from './rescue-mount.js';
