/** A job's per-mini-batch table: files, rows in and out, time, attempts, worker, and what went wrong. */
import * as React from 'react';

import type { IMiniBatch } from '../../api';
import { TableHead } from '../shared';

export function MiniBatchTable(props: { job: number; rows: IMiniBatch[] }): React.ReactElement {
  return (
    <table className="jp-ModelHub-table jp-ModelHub-miniBatches" aria-label={`Mini-batches of job ${props.job}`}>
      <TableHead columns={['#', 'status', 'files', 'rows', 's', 'error']} />
      <tbody>
        {props.rows.map(row => (
          <tr key={row.index} className={`jp-mod-${row.status}`} data-status={row.status}>
            <td>{row.index}</td>
            <td>
              {row.status}
              {row.attempts && row.attempts > 1 ? ` (${row.attempts} tries)` : ''}
            </td>
            <td title={row.files.join('\n')}>{row.files.map(f => f.split('/').pop()).join(', ')}</td>
            <td>
              {row.rows_in ?? ''} → {row.rows_out ?? ''}
            </td>
            <td>{row.seconds ?? ''}</td>
            <td title={row.traceback ?? undefined}>{row.error ?? ''}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
