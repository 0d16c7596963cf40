import { AGENT_OPTIONS, parse } from '../args.js';
import { line, type Output } from '../output.js';
import { renderJobs } from '../render.js';
import { openSession } from '../session.js';
import { followJob } from './follow.js';

export const JOBS_USAGE = `usage: xepa jobs HOST [JOB [--follow] [--after SEQ]] [--fingerprint FP] [--key-dir DIR] [--json]`;

// `xepa jobs`: list the agent's jobs, show one, or follow one from a sequence number.
export async function jobsCommand(argv: string[], o: Output): Promise<number> {
  const { values, positionals } = parse(argv, { ...AGENT_OPTIONS, follow: { type: 'boolean', default: false }, after: { type: 'string' } });
  if (values.help) return line(o.out, JOBS_USAGE), 0;
  const session = await openSession(positionals[0], values, (s) => line(o.err, s));
  try {
    const job = positionals[1];
    if (!job) {
      const { jobs } = await session.client.call('job.list', {});
      line(o.out, values.json ? JSON.stringify(jobs) : renderJobs(jobs));
      return 0;
    }
    if (values.follow) return await followJob(session, job, Number(values.after ?? 0), o, { json: values.json });
    const summary = await session.client.call('job.get', { job });
    line(o.out, values.json ? JSON.stringify(summary) : renderJobs([summary]));
    return 0;
  } finally {
    session.close();
  }
}

export const CANCEL_USAGE = `usage: xepa cancel HOST JOB [--fingerprint FP] [--key-dir DIR] [--json]`;

// `xepa cancel`: stop a job; it still restores the devices before it ends `cancelled`.
export async function cancelCommand(argv: string[], o: Output): Promise<number> {
  const { values, positionals } = parse(argv, AGENT_OPTIONS);
  if (values.help || !positionals[1]) return line(values.help ? o.out : o.err, CANCEL_USAGE), values.help ? 0 : 2;
  const session = await openSession(positionals[0], values, (s) => line(o.err, s));
  try {
    const summary = await session.client.call('job.cancel', { job: positionals[1] });
    line(o.out, values.json ? JSON.stringify(summary) : `job ${summary.id}: cancel requested (${summary.state})`);
    return 0;
  } finally {
    session.close();
  }
}
