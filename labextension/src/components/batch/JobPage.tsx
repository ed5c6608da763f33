/**
 * A batch job's main-area page: its state (a job that succeeded without
 * scoring every file says so), what it scored and with what settings, its
 * failures, the full mini-batch table with the notebook's "why tried again"
 * and "error" columns, its output, and its executed notebook in the
 * read-only viewer.
 */
import * as React from 'react';

import type { IJob } from '../../api';
import { absoluteTime, formatDuration, plural } from '../../format';
import type { ModelHubModel } from '../../model';
import { failureMessage } from '../../operations';
import { useOpener } from '../../opener';
import { ProgressBar } from '../activity';
import { CopyButton, ErrorRetry, StateBadge } from '../shared';
import { MiniBatchTable } from './MiniBatchTable';
import { rowError } from './model';

export function JobPage(props: { hub: ModelHubModel; id: number }): React.ReactElement {
  const { hub, id } = props;
  const state = hub.batch.page(id);
  const job = state?.job;
  if (!job) {
    return (
      <div className="jp-ModelHub-detail jp-ModelHub-jobPage">
        {state?.error ? (
          <ErrorRetry message={state.error} label={`Retry loading job ${id}`} onRetry={() => hub.batch.watchJob(id)} />
        ) : (
          <div className="jp-ModelHub-loading" role="status">
            Loading job {id}…
          </div>
        )}
      </div>
    );
  }
  return <JobView job={job} error={state?.error ?? null} />;
}

function JobView(props: { job: IJob; error: string | null }): React.ReactElement {
  const { job } = props;
  const opener = useOpener();
  const summary = (job.summary ?? {}) as { [key: string]: number | undefined };
  const failedFiles = summary.failed_files ?? 0;
  const label = job.status === 'succeeded' && failedFiles ? `succeeded, ${plural(failedFiles, 'file')} failed` : job.status;
  const rows = job.mini_batches ?? [];
  const failures = rows.filter(r => rowError(r));
  const took = job.started_time && job.ended_time ? formatDuration(job.started_time, job.ended_time) : '';
  const settings = Object.entries((job.settings ?? {}) as { [key: string]: unknown }).filter(
    ([, v]) => v !== null && v !== undefined && !(typeof v === 'object' && Object.keys(v as object).length === 0)
  );
  return (
    <div className="jp-ModelHub-detail jp-ModelHub-jobPage" data-job={job.job}>
      <header className="jp-ModelHub-detailHeader">
        <h1 className="jp-ModelHub-detailTitle">Job {job.job}</h1>
        <StateBadge
          state={job.status === 'succeeded' && failedFiles ? 'partly failed' : job.status}
          label={label}
          className="jp-ModelHub-jobStatus"
        />
      </header>
      <p className="jp-ModelHub-detailMeta">
        {job.endpoint ? `Batch endpoint ${job.endpoint}, ` : ''}model {job.model}
        {job.entry_script ? ` with ${job.entry_script}` : ''}; started {absoluteTime(job.created_time)}
        {job.created_by ? ` by ${job.created_by}` : ''}
        {took ? `, took ${took}` : ''}.
      </p>
      {props.error && <ErrorRetry message={props.error} label={`Retry loading job ${job.job}`} />}
      {job.active && <ProgressBar operation={job} label={`Progress of job ${job.job}`} />}
      {!job.active && job.status !== 'succeeded' && (
        <p className="jp-ModelHub-operationError" role="alert">
          {failureMessage(job)}
        </p>
      )}
      <section aria-label="Summary" className="jp-ModelHub-detailSection">
        <h2>Summary</h2>
        <dl className="jp-ModelHub-facts">
          <dt>Mini-batches</dt>
          <dd className="jp-ModelHub-jobFigures">
            {summary.done ?? 0} of {plural(summary.mini_batches ?? rows.length, 'mini-batch')} done,{' '}
            {summary.failed ?? 0} failed
          </dd>
          <dt>Rows</dt>
          <dd>
            {plural(summary.rows_in ?? 0, 'row')} in, {plural(summary.rows_out ?? 0, 'row')} out
            {summary.rows_per_second ? `, ${Math.round(summary.rows_per_second)} rows/s` : ''}
          </dd>
          {failedFiles > 0 && (
            <>
              <dt>Not scored</dt>
              <dd>{plural(failedFiles, 'file')}</dd>
            </>
          )}
          <dt>Inputs</dt>
          <dd>{inputsText(job.inputs)}</dd>
          <dt>Output</dt>
          <dd>
            {job.output ? (
              <>
                <code className="jp-ModelHub-jobOutput">{job.output}</code>
                <CopyButton text={job.output} label={`Copy the output path of job ${job.job}`} />
              </>
            ) : (
              'none written'
            )}
          </dd>
          {settings.length > 0 && (
            <>
              <dt>Settings</dt>
              <dd>{settings.map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`).join(', ')}</dd>
            </>
          )}
          <dt>Executed notebook</dt>
          <dd>
            {job.notebook_lab_path ? (
              <button
                type="button"
                className="jp-ModelHub-link jp-ModelHub-openNotebook"
                aria-label={`View the executed notebook of job ${job.job}`}
                title={job.notebook ?? undefined}
                onClick={() => opener.viewNotebook(job.notebook_lab_path as string, `job ${job.job} (read-only)`)}
              >
                View notebook (read-only)
              </button>
            ) : (
              'not written yet'
            )}
          </dd>
        </dl>
      </section>
      {failures.length > 0 && (
        <section aria-label="Failures" className="jp-ModelHub-detailSection">
          <h2>Failures</h2>
          <ul className="jp-ModelHub-failures">
            {failures.map(row => (
              <li key={row.index} title={row.traceback ?? undefined}>
                mini-batch {row.index} ({row.files.map(f => f.split('/').pop()).join(', ')}): {rowError(row)}
              </li>
            ))}
          </ul>
        </section>
      )}
      <section aria-label="Mini-batches" className="jp-ModelHub-detailSection">
        <h2>Mini-batches</h2>
        {rows.length ? (
          <div className="jp-ModelHub-tableScroll">
            <MiniBatchTable job={job.job} rows={rows} />
          </div>
        ) : (
          <p className="jp-ModelHub-note">No mini-batch has run yet.</p>
        )}
      </section>
    </div>
  );
}

/** The job's inputs as the server summarises them ({"files": count, "first": the first paths}). */
function inputsText(inputs: unknown): string {
  const summary = (inputs ?? {}) as { files?: number; first?: string[] };
  const first = (summary.first ?? []).map(path => path.split('/').pop()).join(', ');
  const count = typeof summary.files === 'number' ? summary.files : (summary.first ?? []).length;
  const more = count - (summary.first ?? []).length;
  return `${plural(count, 'file')}${first ? `: ${first}` : ''}${more > 0 ? ` and ${more} more` : ''}`;
}
