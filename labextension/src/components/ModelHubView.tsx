/**
 * The whole panel body: header, then one section per resource. Each section
 * re-renders on its own model's signal only.
 */
import * as React from 'react';

import { UseSignal, refreshIcon } from '@jupyterlab/ui-components';

import type { ModelHubModel } from '../model';
import { ActivitySection } from './activity';
import { BatchSection } from './batch';
import { EndpointsSection } from './endpoints';
import { EnvironmentsSection } from './environments';
import { ImagesSection } from './images';
import { ModelsSection } from './models';
import { ErrorRetry } from './shared';

export function ModelHubView(props: { hub: ModelHubModel }): React.ReactElement {
  const { hub } = props;
  return (
    <div className="jp-ModelHub-body">
      <div className="jp-ModelHub-header">
        <h2 className="jp-ModelHub-title">Model Hub</h2>
        <button
          type="button"
          className="jp-ModelHub-refresh jp-Button jp-mod-minimal"
          aria-label="Refresh models"
          title="Refresh"
          onClick={() => void hub.refresh()}
        >
          <refreshIcon.react tag="span" className="jp-ModelHub-icon" />
        </button>
      </div>
      <UseSignal signal={hub.changed}>
        {() =>
          hub.error && !hub.models.error ? (
            <ErrorRetry
              message={hub.error}
              label="Retry reaching the server"
              className="jp-ModelHub-failure"
              onRetry={() => hub.retry()}
            />
          ) : null
        }
      </UseSignal>
      <ModelsSection models={hub.models} onRetry={() => hub.retry()} />
      <EndpointsSection endpoints={hub.endpoints} />
      <ActivitySection activity={hub.activity} onReveal={hub.reveal} />
      <ImagesSection images={hub.images} />
      <EnvironmentsSection environments={hub.environments} />
      <BatchSection batch={hub.batch} />
    </div>
  );
}
