/** One deployment of an endpoint: name (opens its detail), version, state, traffic, mirror, restarts. */
import * as React from 'react';

import type { IDeployment, IEndpoint } from '../../api';
import { trafficLabel } from '../../format';
import { useOpener } from '../../opener';
import { StateBadge } from '../shared';

export function DeploymentItem(props: {
  endpoint: IEndpoint;
  deployment: IDeployment;
}): React.ReactElement {
  const { endpoint, deployment } = props;
  const opener = useOpener();
  const mirror = (endpoint.mirror ?? {}) as { deployment?: string; percent?: number };
  const mirrored = mirror.deployment === deployment.name && typeof mirror.percent === 'number';
  const requested =
    deployment.requested && deployment.requested !== deployment.ref
      ? `requested ${deployment.requested}`
      : undefined;
  return (
    <li
      className="jp-ModelHub-deployment"
      data-endpoint={endpoint.name}
      data-deployment={deployment.name}
      data-state={deployment.state}
    >
      <div className="jp-ModelHub-deploymentHeader">
        <button
          type="button"
          className="jp-ModelHub-deploymentName jp-ModelHub-link"
          aria-label={`Details of deployment ${deployment.name} of ${endpoint.name}`}
          title="Details, logs, monitoring, try it"
          onClick={() => opener.openDeployment(endpoint.name, deployment.name)}
        >
          {deployment.name}
        </button>
        <span className="jp-ModelHub-deploymentRef" title={requested}>
          {deployment.ref}
        </span>
        <StateBadge state={deployment.state} className="jp-ModelHub-deploymentState" />
        <span className="jp-ModelHub-traffic" title="Share of live traffic">
          {trafficLabel(endpoint.traffic, deployment.name)}
        </span>
        {mirrored && (
          <span className="jp-ModelHub-mirror" title="Mirrored traffic">
            mirror {mirror.percent}%
          </span>
        )}
        {deployment.restarts > 0 && (
          <span className="jp-ModelHub-restarts">
            {deployment.restarts === 1 ? '1 restart' : `${deployment.restarts} restarts`}
          </span>
        )}
      </div>
      {deployment.state !== 'healthy' && deployment.reason && (
        <div className="jp-ModelHub-reason">{deployment.reason}</div>
      )}
    </li>
  );
}
