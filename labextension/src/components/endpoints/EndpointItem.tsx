/** One endpoint: name, state, auth, URL (with copy) and its deployments. */
import * as React from 'react';

import type { IEndpoint } from '../../api';
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
  return (
    <li
      ref={node}
      className={'jp-ModelHub-endpoint' + (selected ? ' jp-mod-selected' : '')}
      data-endpoint={endpoint.name}
      data-state={endpoint.state}
      aria-current={selected ? true : undefined}
    >
      <div className="jp-ModelHub-endpointHeader">
        <span className="jp-ModelHub-endpointName" title={endpoint.name}>
          {endpoint.name}
        </span>
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
