/**
 * One batch job: model, status with progress, the output path (with copy), a
 * button that opens the executed notebook (the job's log) in JupyterLab, and
 * its per-mini-batch table on demand.
 */
import * as React from 'react';

import type { IJob } from '../../api';

import { failureMessage } from '../../operations';
import { useOpener } from '../../opener';
import { ProgressBar } from '../activity';
import { CopyButton, ErrorRetry, StateBadge, RelativeTime } from '../shared';
import { BatchModel } from './model';
import { MiniBatchTable } from './MiniBatchTable';

/** What the job's summary line shows, of all its figures. */
const SUMMARY = ['succeeded', 'failed', 'rows_in', 'rows_out', 'seconds'];

export function JobItem(props: { batch: BatchModel; job: IJob }): React.ReactElement {
  const { batch, job } = props;
  const opener = useOpener();
  const detail = batch.detail(job.id);
  const summary = (job.summary ?? {}) as { [key: string]: unknown };
  const time = job.ended_time ?? job.started_time ?? job.created_time;
  return (
    <li className="jp-ModelHub-job" data-job={job.id} data-status={job.status}>
      <div className="jp-ModelHub-imageHeader">
        <span className="jp-ModelHub-environmentRef">job {job.job}</span>
        <span title={job.endpoint ? `batch endpoint ${job.endpoint}` : undefined}>{job.model}</span>
        <StateBadge state={job.status} className="jp-ModelHub-jobStatus" />
        <RelativeTime iso={time} />
      </div>
      {job.active && <ProgressBar operation={job} label={`Progress of job ${job.job}`} />}
      {!job.active && job.status !== 'succeeded' && (
        <div className="jp-ModelHub-operationError">{failureMessage(job)}</div>
      )}
      {Object.keys(summary).length > 0 && (
        <div className="jp-ModelHub-versionMeta jp-ModelHub-jobSummary">
          {SUMMARY.filter(key => summary[key] !== undefined)
            .map(key => [key, summary[key]] as [string, unknown])
            .map(([key, value]) => (
              <span key={key}>
                {key.replace(/_/g, ' ')}: {String(value)}
              </span>
            ))}
        </div>
      )}
      {job.output && (
        <div className="jp-ModelHub-endpointUrl">
          <code className="jp-ModelHub-jobOutput" title={job.output}>
            {job.output}
          </code>
          <CopyButton text={job.output} label={`Copy the output path of job ${job.job}`} />
        </div>
      )}
      <div className="jp-ModelHub-operationActions">
        {job.notebook_lab_path && (
          <button
            type="button"
            className="jp-ModelHub-link jp-ModelHub-openNotebook"
            aria-label={`Open the executed notebook of job ${job.job}`}
            title={job.notebook ?? undefined}
            onClick={() => opener.viewNotebook(job.notebook_lab_path as string, `job ${job.job} (read-only)`)}
          >
            executed notebook (read-only)
          </button>
        )}
        <button
          type="button"
          className="jp-ModelHub-link"
          aria-expanded={!!detail}
          aria-label={`${detail ? 'Hide' : 'Show'} the mini-batches of job ${job.job}`}
          onClick={() => batch.toggleTable(job.id)}
        >
          {detail ? 'hide mini-batches' : 'mini-batches'}
        </button>
        <button
          type="button"
          className="jp-ModelHub-link jp-ModelHub-openJob"
          aria-label={`Open the page of job ${job.job}`}
          onClick={() => opener.openJob(job.id, job.job)}
        >
          job page
        </button>
      </div>
      {detail?.error && <ErrorRetry message={detail.error} label={`Retry loading job ${job.job}`} />}
      {detail?.job?.mini_batches && <MiniBatchTable job={job.job} rows={detail.job.mini_batches} compact />}
    </li>
  );
}
