/**
 * A report without a layout of its own (a property the panel does not know)
 * as a two-column table, nested objects flattened; sizes in words ("1.9 KB"),
 * numbers right-aligned.
 */
import * as React from 'react';

import { cellText, flatten, formatSize } from '../../format';
import { Cell } from '../shared';

export function ReportTable(props: { label: string; report: unknown }): React.ReactElement {
  const rows = flatten(props.report);
  return (
    <table className="jp-ModelHub-table jp-ModelHub-report" aria-label={props.label}>
      <tbody>
        {rows.map(([key, value]) => {
          const text = /(^|[._])(size|bytes)$/.test(key) && typeof value === 'number' ? formatSize(value) : cellText(value);
          return (
            <tr key={key}>
              <th scope="row">{key}</th>
              <Cell text={text} title={text} />
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
