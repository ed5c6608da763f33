/** The header row of a data table: one column heading per name. */
import * as React from 'react';

export function TableHead(props: { columns: string[] }): React.ReactElement {
  return (
    <thead>
      <tr>
        {props.columns.map((column, i) => (
          <th key={i} scope="col">
            {column}
          </th>
        ))}
      </tr>
    </thead>
  );
}
