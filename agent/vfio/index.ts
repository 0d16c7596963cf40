// vfio capability: bind PCI devices to vfio-pci and restore them, with a crash-safe journal.
export { bindToVfio, type BindTarget, type VfioBinding } from './bind.js';
export { restoreJournal, type RestoreReport } from './restore.js';
export { journalPath, journalDir, readJournal, writeJournal, listJournals, type VfioJournal, type JournalEntry, type BindStep } from './journal.js';
export { VFIO_DRIVER, spawnModprobe, type VfioDeps } from './vfio-deps.js';
export { bindVfioStep } from './bind-step.js';
