/** The Models section: the query, the models and, under an open model, its versions. */
import * as React from 'react';

import { UseSignal } from '@jupyterlab/ui-components';

import { ErrorRetry, Section } from '../shared';
import { ModelItem } from './ModelItem';
import { ModelsModel } from './model';
import { QueryBar } from './QueryBar';

export const EMPTY_MESSAGE = 'No models yet. Register one from a notebook:';
export const EMPTY_COMMAND = '%register NAME VARIABLE';

export const ModelsSection = React.memo(function ModelsSection(props: {
  models: ModelsModel;
  onRetry: () => void;
}): React.ReactElement {
  const { models } = props;
  return (
    <UseSignal signal={models.changed}>
      {() => (
        <Section
          title="Models"
          badge={models.loaded ? `(${models.total})` : undefined}
          className="jp-ModelHub-models"
          expanded={models.expanded}
          onToggle={() => models.toggle()}
        >
          <QueryBar models={models} />
          {models.error && (
            <ErrorRetry
              message={models.error}
              label="Retry loading models"
              className="jp-ModelHub-failure"
              onRetry={props.onRetry}
            />
          )}
          {models.loading && !models.loaded && (
            <div className="jp-ModelHub-loading" role="status" aria-live="polite">
              Loading models…
            </div>
          )}
          <ModelList models={models} />
        </Section>
      )}
    </UseSignal>
  );
});

function ModelList(props: { models: ModelsModel }): React.ReactElement | null {
  const { models } = props;
  if (!models.loaded || models.queryError) {
    return null;
  }
  if (models.models.length === 0) {
    return (
      <div className="jp-ModelHub-empty" role="status">
        {models.hasQuery ? (
          'No models match these filters.'
        ) : (
          <>
            {EMPTY_MESSAGE} <code>{EMPTY_COMMAND}</code>
          </>
        )}
      </div>
    );
  }
  return (
    <div className="jp-ModelHub-listWrapper">
      <div className="jp-ModelHub-count" aria-live="polite">
        {models.total === 1 ? '1 model' : `${models.total} models`}
      </div>
      <ul className="jp-ModelHub-list" aria-label="Models">
        {models.models.map(summary => (
          <ModelItem key={summary.name} models={models} summary={summary} />
        ))}
      </ul>
      {models.hasMore && (
        <button
          type="button"
          className="jp-ModelHub-more jp-Button jp-mod-styled"
          aria-label="Load more models"
          disabled={models.loading}
          onClick={() => void models.loadMore()}
        >
          Load more ({models.total - models.models.length} left)
        </button>
      )}
    </div>
  );
}
