/** The versions of an open model, newest first, and a Compare button for the picked ones. */
import * as React from 'react';

import { useOpener } from '../../opener';
import { ErrorRetry } from '../shared';
import { ModelsModel } from './model';
import { VersionItem } from './VersionItem';

export function VersionList(props: {
  models: ModelsModel;
  name: string;
  id: string;
}): React.ReactElement {
  const { models, name, id } = props;
  const opener = useOpener();
  const state = models.versions(name);
  const picked = models.picked(name);
  return (
    <div className="jp-ModelHub-versions" id={id}>
      {state?.error && (
        <ErrorRetry
          message={state.error}
          label={`Retry loading versions of ${name}`}
          onRetry={() => void models.loadVersions(name)}
        />
      )}
      {(!state || (state.loading && state.versions.length === 0)) && (
        <div className="jp-ModelHub-loading" role="status">
          Loading versions…
        </div>
      )}
      {state && state.matched && (
        <div className="jp-ModelHub-note" role="status">
          {state.matched.size === 1 ? '1 version matches' : `${state.matched.size} versions match`}{' '}
          the filter (marked).
        </div>
      )}
      {state && state.versions.length > 0 && (
        <ul className="jp-ModelHub-versionList" aria-label={`Versions of ${name}`}>
          {state.versions.map(version => (
            <VersionItem
              key={version.version}
              models={models}
              version={version}
              matched={state.matched ? state.matched.has(version.version) : null}
            />
          ))}
        </ul>
      )}
      {state && state.versions.length > 1 && (
        <div className="jp-ModelHub-compareBar">
          <button
            type="button"
            className="jp-ModelHub-compare jp-Button jp-mod-styled"
            aria-label={`Compare the picked versions of ${name}`}
            disabled={picked.length < 2}
            title={picked.length < 2 ? 'Pick two or more versions to compare' : undefined}
            onClick={() => opener.compare(name, picked)}
          >
            Compare{picked.length ? ` (${picked.length})` : ''}
          </button>
        </div>
      )}
      {state && state.total > state.versions.length && (
        <div className="jp-ModelHub-note">
          Showing the newest {state.versions.length} of {state.total} versions.
        </div>
      )}
    </div>
  );
}
