/** A report (properties, an equivalence or speed report) as a two-column table, nested objects flattened. */
import * as React from 'react';

import { cellText, flatten } from '../../format';

export function ReportTable(props: { label: string; report: unknown }): React.ReactElement {
  const rows = flatten(props.report);
  return (
    <table className="jp-ModelHub-table jp-ModelHub-report" aria-label={props.label}>
      <tbody>
        {rows.map(([key, value]) => (
          <tr key={key}>
            <th scope="row">{key}</th>
            <td title={cellText(value)}>{cellText(value)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
