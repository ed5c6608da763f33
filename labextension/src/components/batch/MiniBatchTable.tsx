/**
 * A job's per-mini-batch table. In the sidebar (`compact`): which mini-batch,
 * its files and its state, and under them, across the table's width so it
 * reads as a sentence, why (what went wrong, why it was tried again); the rest
 * of a row behind its "details". On the job's page: the notebook's
 * columns (mini-batch, status, files, rows in, rows out, s, attempts, why
 * tried again, error), the worker in the mini-batch's title. Only numbers are right-aligned.
 */
import * as React from 'react';

import type { IMiniBatch } from '../../api';
import { cellText } from '../../format';
import { Cell, TableHead } from '../shared';
import { rowError, triedAgain, whyText } from './model';

const FULL = ['mini-batch', 'status', 'files', 'rows in', 'rows out', 's', 'attempts', 'why tried again', 'error'];

function statusText(row: IMiniBatch): string {
  return `${row.status}${row.attempts && row.attempts > 1 ? ` (${row.attempts} tries)` : ''}`;
}

function fileNames(row: IMiniBatch): string {
  return row.files.map(f => f.split('/').pop()).join(', ');
}

export function MiniBatchTable(props: { job: number; rows: IMiniBatch[]; compact?: boolean }): React.ReactElement {
  const [open, setOpen] = React.useState<Set<number>>(new Set());
  const label = `Mini-batches of job ${props.job}`;
  if (!props.compact) {
    return (
      <table className="jp-ModelHub-table jp-ModelHub-miniBatches jp-mod-full" aria-label={label}>
        <TableHead columns={FULL} />
        <tbody>
          {props.rows.map(row => (
            <tr key={row.index} className={`jp-mod-${row.status.replace(/ /g, '-')}`} data-status={row.status}>
              <Cell text={String(row.index)} title={row.worker ? `ran on ${row.worker}` : undefined} />
              <td>{row.status}</td>
              <td title={row.files.join('\n')}>{fileNames(row)}</td>
              <Cell text={cellText(row.rows_in ?? '')} />
              <Cell text={cellText(row.rows_out ?? '')} />
              <Cell text={typeof row.seconds === 'number' ? row.seconds.toFixed(2) : ''} />
              <Cell text={cellText(row.attempts ?? '')} />
              <td className="jp-ModelHub-why">{triedAgain(row)}</td>
              <td className="jp-ModelHub-why" title={row.traceback ?? undefined}>
                {rowError(row)}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    );
  }
  const toggle = (index: number) => {
    const next = new Set(open);
    if (!next.delete(index)) {
      next.add(index);
    }
    setOpen(next);
  };
  return (
    <table className="jp-ModelHub-table jp-ModelHub-miniBatches jp-mod-compact" aria-label={label}>
      <TableHead columns={['#', 'files', 'status']} />
      {props.rows.map(row => {
        const why = whyText(row);
        return (
          <tbody key={row.index} className={`jp-mod-${row.status.replace(/ /g, '-')}`} data-status={row.status}>
            <tr data-status={row.status}>
              <Cell text={String(row.index)} />
              <td title={row.files.join('\n')}>{fileNames(row)}</td>
              <td>
                {statusText(row)}{' '}
                <button
                  type="button"
                  className="jp-ModelHub-link jp-ModelHub-rowDetails"
                  aria-expanded={open.has(row.index)}
                  aria-label={`Details of mini-batch ${row.index}`}
                  onClick={() => toggle(row.index)}
                >
                  {open.has(row.index) ? 'less' : 'details'}
                </button>
              </td>
            </tr>
            {why && (
              <tr className="jp-ModelHub-whyRow">
                <td colSpan={3} className="jp-ModelHub-why" title={row.traceback ?? undefined}>
                  <span className="jp-ModelHub-whyLabel">why: </span>
                  {why}
                </td>
              </tr>
            )}
            {open.has(row.index) && (
              <tr className="jp-ModelHub-rowMore">
                <td colSpan={3}>
                  rows {row.rows_in ?? '?'} → {row.rows_out ?? '?'}
                  {typeof row.seconds === 'number' ? `, ${row.seconds.toFixed(2)} s` : ''}
                  {row.attempts ? `, ${row.attempts === 1 ? '1 attempt' : `${row.attempts} attempts`}` : ''}
                  {row.worker ? `, on ${row.worker}` : ''}
                </td>
              </tr>
            )}
          </tbody>
        );
      })}
    </table>
  );
}
