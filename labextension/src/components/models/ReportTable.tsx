/** A report (properties, an equivalence or speed report) as a two-column table, nested objects flattened. */
import * as React from 'react';

import { cellText } from '../../format';

/** [["speedup.latency", 23.1], ...]: nested objects as dotted keys, lists as JSON. */
export function flatten(value: unknown, prefix = ''): [string, unknown][] {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return [[prefix, value]];
  }
  const entries = Object.entries(value as { [key: string]: unknown });
  if (entries.length === 0) {
    return [[prefix, '{}']];
  }
  return entries.flatMap(([key, inner]) => flatten(inner, prefix ? `${prefix}.${key}` : key));
}

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
