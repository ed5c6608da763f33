/** Versions of one model side by side (a main-area tab), rows where they differ marked. */
import * as React from 'react';

import type { ModelHubModel } from '../../model';
import { compareRows } from './compare';

export function CompareView(props: {
  hub: ModelHubModel;
  name: string;
  versions: number[];
}): React.ReactElement {
  const { hub, name } = props;
  const state = hub.models.versions(name);
  const picked = props.versions
    .map(number => state?.versions.find(v => v.version === number))
    .filter((v): v is NonNullable<typeof v> => !!v);
  if (picked.length < 2) {
    return (
      <div className="jp-ModelHub-detail" role="status">
        Open {name} in the Model Hub panel and pick two or more of its versions to compare.
      </div>
    );
  }
  const rows = compareRows(picked);
  const differing = rows.filter(r => r.differs).length;
  let group = '';
  return (
    <div className="jp-ModelHub-detail jp-ModelHub-compareView">
      <h1 className="jp-ModelHub-detailTitle">Compare {picked.map(v => v.ref).join(', ')}</h1>
      <p className="jp-ModelHub-note">
        {differing === 1 ? '1 row differs' : `${differing} rows differ`} (marked).
      </p>
      <table className="jp-ModelHub-table jp-ModelHub-compareTable" aria-label={`Compare versions of ${name}`}>
        <thead>
          <tr>
            <th scope="col">&nbsp;</th>
            {picked.map(v => (
              <th key={v.version} scope="col">
                {v.ref}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.flatMap(row => {
            const out: React.ReactElement[] = [];
            if (row.group !== group) {
              group = row.group;
              out.push(
                <tr key={`group:${group}`} className="jp-ModelHub-compareGroup">
                  <th scope="rowgroup" colSpan={picked.length + 1}>
                    {group}
                  </th>
                </tr>
              );
            }
            out.push(
              <tr
                key={`${row.group}:${row.key}`}
                className={row.differs ? 'jp-mod-differs' : undefined}
                data-group={row.group}
                data-key={row.key}
              >
                <th scope="row">
                  {row.key}
                  {row.differs && <span className="jp-ModelHub-differs"> (differs)</span>}
                </th>
                {row.values.map((value, i) => (
                  <td key={i} title={value}>
                    {value}
                  </td>
                ))}
              </tr>
            );
            return out;
          })}
        </tbody>
      </table>
    </div>
  );
}
