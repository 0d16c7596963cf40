// Rescue-boot enrolment: the agent reports its TLS fingerprint to the controller once, with a one-time token.
export { enrolAtBoot, ENROLLED_FILE, type EnrolDeps, type EnrolOutcome } from './enrol-at-boot.js';
