import type { DiskInfo, JobState, PartitionBackup, Plan } from '../protocol/index.js';
import { XepaError, isTerminal } from '../protocol/index.js';
import { backupDigest } from './backup-check.js';

// Which disk a partition-table restore may write, decided from the agent's own records only: the named
// job's saved backup (made before binding, the truth about the disk's identity), the job's plan, the disks on
// the host now, and every job of the agent (docs/fidelity.md, "Restoring a partition table").

// A job as the restore decision sees it.
export interface RestoreJob {
  id: string;
  state: JobState;
  plan?: Plan | undefined;
}

// What chooseRestore decides from.
export interface RestoreRequest {
  job: RestoreJob & { backups: PartitionBackup[] }; // the named job and the backups it saved
  disk: string; // as the caller named it: the backup's disk path, serial or WWN
  supplied?: PartitionBackup | undefined; // the caller's copy: a cross-check, never a source of bytes
  hostDisks: DiskInfo[];
  jobs: RestoreJob[]; // every job of the agent, the named one included
}

type Identity = { path: string; serial?: string | undefined; wwn?: string | undefined };

const label = (d: Identity): string => [d.path, d.serial && `serial ${d.serial}`, d.wwn && `WWN ${d.wwn}`].filter(Boolean).join(', ');

/**
 * The job's own backup of the named disk and the host disk it belongs to, or the refusal: ERR_JOB_STATE (job
 * still running), ERR_NOT_FOUND (the job saved no backup of that disk), ERR_BAD_REQUEST (a supplied copy that
 * differs from the saved one; a record the job's plan does not own), ERR_DEVICE_NOT_FOUND (no disk with the
 * saved serial/WWN, or one whose identity differs), ERR_DEVICE_BUSY (a job holds the disk, or it is in use).
 */
export function chooseRestore(r: RestoreRequest): { backup: PartitionBackup; target: DiskInfo } {
  const { job } = r;
  if (!isTerminal(job.state)) throw new XepaError('ERR_JOB_STATE', `job ${job.id} is ${job.state}: restore a partition table only after the job ended`);
  const backup = job.backups.find((b) => b.disk === r.disk || (b.serial !== undefined && b.serial === r.disk) || (b.wwn !== undefined && b.wwn === r.disk));
  if (!backup) throw new XepaError('ERR_NOT_FOUND', `job ${job.id} saved no partition table for ${r.disk}`);
  // Compared before anything of the supplied copy is decoded or decompressed.
  if (r.supplied && backupDigest(r.supplied) !== backupDigest(backup)) {
    throw new XepaError('ERR_BAD_REQUEST', `the supplied backup of ${r.supplied.disk} is not the one job ${job.id} saved of ${backup.disk}: only the agent's own record is ever written`);
  }
  const owned = ownedDisk(job, backup);
  const target = findByIdentity(owned, backup.sizeBytes, r.hostDisks);
  for (const other of r.jobs) {
    if (isTerminal(other.state) || !other.plan) continue;
    const held = other.plan.disks.find((d) => d.path === target.path || sameId(d.serial, target.serial) || sameId(d.wwn, target.wwn));
    if (held) throw new XepaError('ERR_DEVICE_BUSY', `${target.path} belongs to job ${other.id}, which is ${other.state}: not rewriting its partition table`, { details: { job: other.id } });
    const bound = target.pciAddress && other.plan.passthrough?.bind.some((b) => b.bdf === target.pciAddress);
    if (bound) throw new XepaError('ERR_DEVICE_BUSY', `${target.path}'s controller ${target.pciAddress} is passed through for job ${other.id}: not rewriting its partition table`, { details: { job: other.id } });
  }
  if (target.inUse.length > 0) throw new XepaError('ERR_DEVICE_BUSY', `${target.path} is in use (${target.inUse.join(', ')}): not rewriting its partition table`);
  return { backup, target };
}

const sameId = (a: string | undefined, b: string | undefined): boolean => a !== undefined && a === b;

// The plan disk the backup was made of, with the identity recorded at backup time; refuses a record the job does not own.
function ownedDisk(job: RestoreRequest['job'], b: PartitionBackup): Identity {
  const d = job.plan?.disks.find((x) => x.path === b.disk && x.sizeBytes === b.sizeBytes && x.serial === b.serial && (b.wwn === undefined || x.wwn === b.wwn));
  if (!d) throw new XepaError('ERR_BAD_REQUEST', `job ${job.id}'s backup of ${label({ path: b.disk, serial: b.serial, wwn: b.wwn })} names no disk of the job's plan: refused`);
  return { path: d.path, serial: d.serial, wwn: b.wwn ?? d.wwn };
}

// The host disk with the saved serial and WWN now (or, for a disk that had neither, the disk at its path that still has neither).
function findByIdentity(want: Identity, sizeBytes: number, disks: DiskInfo[]): DiskInfo {
  const byId = want.serial !== undefined || want.wwn !== undefined;
  const candidates = byId
    ? disks.filter((x) => (want.serial === undefined || x.serial === want.serial) && (want.wwn === undefined || x.wwn === want.wwn))
    : disks.filter((x) => x.path === want.path && x.serial === undefined && x.wwn === undefined);
  if (candidates.length !== 1) {
    const atPath = disks.find((x) => x.path === want.path);
    const now = atPath ? `; ${want.path} is now ${label(atPath)}` : '';
    const why = candidates.length === 0 ? 'is not on the host' : `matches ${candidates.length} disks`;
    throw new XepaError('ERR_DEVICE_NOT_FOUND', `the disk saved as ${label(want)} ${why}${now}: not restoring onto a disk that is not provably the same`);
  }
  const target = candidates[0]!;
  if (target.sizeBytes !== sizeBytes) throw new XepaError('ERR_BAD_REQUEST', `${target.path} has ${target.sizeBytes} bytes, the backup was taken of ${sizeBytes}: not the same disk`);
  return target;
}
