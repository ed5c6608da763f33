/** One endpoint: name, state, auth, URL (with copy) and its deployments. */
import * as React from 'react';

import type { IEndpoint } from '../../api';
import { useOpener } from '../../opener';
import { CopyButton, StateBadge, useScrollIntoView } from '../shared';
import { DeploymentItem } from './DeploymentItem';
import { EndpointsModel } from './model';

export function EndpointItem(props: {
  endpoints: EndpointsModel;
  endpoint: IEndpoint;
}): React.ReactElement {
  const { endpoints, endpoint } = props;
  const selected = endpoints.isSelected(endpoint.name);
  const node = useScrollIntoView<HTMLLIElement>(selected, endpoints.selection);
  const opener = useOpener();
  const change = endpoints.changeState(endpoint.name);
  return (
    <li
      ref={node}
      className={'jp-ModelHub-endpoint' + (selected ? ' jp-mod-selected' : '')}
      data-endpoint={endpoint.name}
      data-state={endpoint.state}
      aria-current={selected ? true : undefined}
    >
      <div className="jp-ModelHub-endpointHeader">
        <button
          type="button"
          className="jp-ModelHub-endpointName jp-ModelHub-link"
          title={`${endpoint.name}: its page (deployments, traffic, keys, try it, logs, history)`}
          aria-label={`Page of endpoint ${endpoint.name}`}
          onClick={() => opener.openEndpoint(endpoint.name)}
        >
          {endpoint.name}
        </button>
        <StateBadge state={endpoint.state} className="jp-ModelHub-endpointState" />
        {endpoint.auth && (
          <span className="jp-ModelHub-auth" title="Authentication">
            auth: {endpoint.auth}
          </span>
        )}
      </div>
      <div className="jp-ModelHub-endpointUrl">
        <code className="jp-ModelHub-url" title={endpoint.url}>
          {endpoint.url}
        </code>
        <CopyButton text={endpoint.url} label={`Copy the URL of ${endpoint.name}`} />
      </div>
      {endpoint.deployments.length === 0 && (
        <div className="jp-ModelHub-row">
          <span className="jp-ModelHub-note">No deployments: it answers nothing.</span>
          <button
            type="button"
            className="jp-ModelHub-deleteEndpoint jp-Button jp-mod-styled jp-mod-warn"
            aria-label={`Delete endpoint ${endpoint.name}`}
            disabled={change?.busy}
            onClick={async () => {
              if (
                await opener.confirm(
                  `Delete endpoint ${endpoint.name}?`,
                  `${endpoint.name} has no deployments. Its URL and keys are removed.`,
                  'Delete endpoint'
                )
              ) {
                void endpoints.deleteEndpoint(endpoint.name);
              }
            }}
          >
            Delete endpoint
          </button>
        </div>
      )}
      {change?.error && (
        <div className="jp-ModelHub-error" role="alert">
          {change.error}
        </div>
      )}
      {endpoint.deployments.length > 0 && (
        <ul className="jp-ModelHub-deploymentList" aria-label={`Deployments of ${endpoint.name}`}>
          {endpoint.deployments.map(deployment => (
            <DeploymentItem key={deployment.name} endpoint={endpoint} deployment={deployment} />
          ))}
        </ul>
      )}
    </li>
  );
}
