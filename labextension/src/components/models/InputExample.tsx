/**
 * A version's input example as a table: its columns (the DataFrame's, else
 * the signature's inputs), the first rows, and "and N more rows"; an example
 * of any other shape as clipped JSON.
 */
import * as React from 'react';

import type { IVersion } from '../../api';
import { plural } from '../../format';
import { Cell, TableHead } from '../shared';
import { exampleTable } from './reports';

/** Longest example shown as text (characters of JSON) when it is not a table. */
const EXAMPLE_CHARS = 2000;

export function InputExample(props: { version: IVersion }): React.ReactElement {
  const { version } = props;
  const example = version.input_example;
  if (example === null || example === undefined) {
    return <p className="jp-ModelHub-note">No input example recorded.</p>;
  }
  const columnNames = ((version.properties?.conversion as { input_columns?: string[] } | undefined)?.input_columns ??
    []) as string[];
  const table = exampleTable(example, version.signature?.inputs ?? [], undefined, columnNames);
  if (!table) {
    const text = JSON.stringify(example);
    return (
      <pre className="jp-ModelHub-code jp-ModelHub-example">
        {text.length > EXAMPLE_CHARS ? text.slice(0, EXAMPLE_CHARS) + '\n…' : text}
      </pre>
    );
  }
  return (
    <div className="jp-ModelHub-example">
      <div className="jp-ModelHub-tableScroll">
        <table className="jp-ModelHub-table" aria-label={`Input example of ${version.ref}`}>
          <TableHead columns={table.columns} />
          <tbody>
            {table.rows.map((row, i) => (
              <tr key={i}>
                {row.map((value, j) => (
                  <Cell key={j} text={value} />
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {table.more > 0 && <p className="jp-ModelHub-note jp-ModelHub-exampleMore">and {plural(table.more, 'more row')}</p>}
    </div>
  );
}
