/** The Endpoints section: online endpoints with their deployments, states and traffic. */
import * as React from 'react';

import { UseSignal } from '@jupyterlab/ui-components';

import { Section } from '../shared';
import { EndpointItem } from './EndpointItem';
import { EndpointsModel } from './model';

export const NO_ENDPOINTS_MESSAGE = 'No endpoints. Deploy one from a notebook:';
export const NO_ENDPOINTS_COMMAND = '%deploy NAME MODEL';

export const EndpointsSection = React.memo(function EndpointsSection(props: {
  endpoints: EndpointsModel;
}): React.ReactElement {
  const { endpoints } = props;
  return (
    <UseSignal signal={endpoints.changed}>
      {() => (
        <Section
          title="Endpoints"
          badge={endpoints.loaded ? `(${endpoints.endpoints.length})` : undefined}
          className="jp-ModelHub-endpoints"
          expanded={endpoints.expanded}
          onToggle={() => endpoints.toggle()}
          error={endpoints.error}
          onRetry={() => void endpoints.reload()}
          loading={!endpoints.loaded}
          empty={
            endpoints.loaded && endpoints.endpoints.length === 0 ? (
              <>
                {NO_ENDPOINTS_MESSAGE} <code>{NO_ENDPOINTS_COMMAND}</code>
              </>
            ) : undefined
          }
        >
          <ul className="jp-ModelHub-endpointList" aria-label="Endpoints">
            {endpoints.endpoints.map(endpoint => (
              <EndpointItem key={endpoint.name} endpoints={endpoints} endpoint={endpoint} />
            ))}
          </ul>
        </Section>
      )}
    </UseSignal>
  );
});
