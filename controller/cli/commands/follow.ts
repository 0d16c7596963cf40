import type { JobEvent } from '../../../agent/protocol/index.js';
import type { Output } from '../output.js';
import { createProgress } from '../progress.js';
import type { Session } from '../session.js';

// Follows a job's events to its end (resuming after reconnects); exit code 0 when it ended done.
export async function followJob(session: Session, job: string, after: number, o: Output, mode: { json: boolean }): Promise<number> {
  const progress = createProgress(o, mode);
  let last: JobEvent | undefined;
  const onSigint = (): void => {
    progress.note(`\ndetached: job ${job} goes on on the agent (xepa jobs HOST ${job} --follow, xepa cancel HOST ${job})`);
    session.close();
    process.exit(130);
  };
  process.once('SIGINT', onSigint);
  try {
    await session.client.followJob(job, {
      after,
      onEvent: (e) => {
        last = e;
        progress.event(e);
      },
    });
  } finally {
    process.off('SIGINT', onSigint);
    progress.end();
  }
  const error = last?.detail?.error as { code?: string; message?: string } | undefined;
  if (last?.state !== 'done') progress.note(`job ${job} ended ${last?.state ?? 'without events'}${error?.code ? `: ${error.code}: ${error.message}` : ''}`);
  return last?.state === 'done' ? 0 : 1;
}
