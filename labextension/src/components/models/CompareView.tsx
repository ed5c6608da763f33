/**
 * Versions of one model side by side (a main-area tab): the metrics first,
 * rows where the versions differ marked and counted, and the timing internals
 * (which vary on every run) in a collapsed "Timings" group that is never
 * counted as a difference.
 */
import * as React from 'react';

import type { ModelHubModel } from '../../model';
import { Cell } from '../shared';
import { compareRows, ICompareRow, TIMINGS } from './compare';

export function CompareView(props: {
  hub: ModelHubModel;
  name: string;
  versions: number[];
}): React.ReactElement {
  const { hub, name } = props;
  const [timingsOpen, setTimingsOpen] = React.useState(false);
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
  const timings = rows.filter(r => r.group === TIMINGS);
  const groups: [string, ICompareRow[]][] = [];
  for (const row of rows) {
    const last = groups[groups.length - 1];
    if (last && last[0] === row.group) {
      last[1].push(row);
    } else {
      groups.push([row.group, [row]]);
    }
  }
  const columns = picked.length + 1;
  return (
    <div className="jp-ModelHub-detail jp-ModelHub-compareView">
      <h1 className="jp-ModelHub-detailTitle">Compare {picked.map(v => v.ref).join(', ')}</h1>
      <p className="jp-ModelHub-note jp-ModelHub-compareSummary">
        {differing === 0 ? 'No row differs' : differing === 1 ? '1 row differs' : `${differing} rows differ`} (marked)
        {timings.length > 0 && `; timings, which vary on every run, are apart and not counted`}.
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
        {groups.map(([group, members]) => {
          const folded = group === TIMINGS && !timingsOpen;
          return (
            <tbody key={group} data-group={group} className="jp-ModelHub-compareBody">
              <tr className="jp-ModelHub-compareGroup">
                <th scope="rowgroup" colSpan={columns}>
                  {group === TIMINGS ? (
                    <button
                      type="button"
                      className="jp-ModelHub-link jp-ModelHub-timingsToggle"
                      aria-expanded={timingsOpen}
                      onClick={() => setTimingsOpen(!timingsOpen)}
                    >
                      {timingsOpen ? '▾' : '▸'} Timings ({members.length} rows, not compared)
                    </button>
                  ) : (
                    group
                  )}
                </th>
              </tr>
              {!folded &&
                members.map(row => (
                  <tr
                    key={`${row.group}:${row.key}`}
                    className={row.differs ? 'jp-mod-differs' : row.varies ? 'jp-mod-varies' : undefined}
                    data-group={row.group}
                    data-key={row.key}
                  >
                    <th scope="row">
                      {row.key}
                      {row.differs && <span className="jp-ModelHub-differs"> (differs)</span>}
                    </th>
                    {row.values.map((value, i) => (
                      <Cell key={i} text={value} title={value} />
                    ))}
                  </tr>
                ))}
            </tbody>
          );
        })}
      </table>
    </div>
  );
}
