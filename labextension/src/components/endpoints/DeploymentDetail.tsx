/**
 * The detail view of one deployment (a main-area tab): state, restarts and
 * last crash, the endpoint's key (masked, with copy), traffic and mirror
 * editing, a log tail and a monitoring strip that follow while the tab is
 * open, and "try it".
 */
import * as React from 'react';

import { absoluteTime } from '../../format';
import type { ModelHubModel } from '../../model';
import { useOpener } from '../../opener';
import { CopyButton, ErrorRetry, StateBadge, VersionLink } from '../shared';
import { MonitoringStrip } from './MonitoringStrip';
import { TrafficEditor } from './TrafficEditor';
import { TryIt } from './TryIt';

export function DeploymentDetail(props: {
  hub: ModelHubModel;
  endpoint: string;
  deployment: string;
}): React.ReactElement {
  const endpoints = props.hub.endpoints;
  const opener = useOpener();
  const endpoint = endpoints.find(props.endpoint);
  const deployment = endpoint?.deployments.find(d => d.name === props.deployment);
  const watch = endpoints.watched(props.endpoint, props.deployment);
  const logNode = React.useRef<HTMLPreElement>(null);
  React.useEffect(() => {
    // A log that follows: keep the newest line in view.
    logNode.current?.scrollTo({ top: logNode.current.scrollHeight });
  }, [watch?.log]);
  if (!endpoint || !deployment) {
    return (
      <div className="jp-ModelHub-detail" role="status">
        {endpoints.loaded
          ? `Endpoint ${props.endpoint} has no deployment ${props.deployment} (any more).`
          : 'Loading…'}
      </div>
    );
  }
  const change = endpoints.changeState(endpoint.name);
  // The server keeps an endpoint's last deployment unless the endpoint goes with it.
  const last = endpoint.deployments.length === 1;
  return (
    <div
      className="jp-ModelHub-detail jp-ModelHub-deploymentDetail"
      data-endpoint={endpoint.name}
      data-deployment={deployment.name}
    >
      <header className="jp-ModelHub-detailHeader">
        <h1 className="jp-ModelHub-detailTitle">
          {endpoint.name} / {deployment.name}
        </h1>
        <StateBadge state={deployment.state} className="jp-ModelHub-deploymentState" />
      </header>
      <dl className="jp-ModelHub-facts">
        <dt>Serves</dt>
        <dd>
          <VersionLink reference={deployment.ref} />
          {deployment.requested !== deployment.ref ? ` (asked for ${deployment.requested})` : ''}
        </dd>
        <dt>State</dt>
        <dd className="jp-ModelHub-stateText">
          {deployment.state}
          {deployment.reason ? `: ${deployment.reason}` : ''}
        </dd>
        <dt>Restarts</dt>
        <dd className="jp-ModelHub-restartCount">{deployment.restarts}</dd>
        <dt>Last crash</dt>
        <dd className="jp-ModelHub-lastCrash">
          {deployment.last_crash ? absoluteTime(deployment.last_crash) : 'never'}
        </dd>
        <dt>URL</dt>
        <dd>
          <code>{endpoint.url}/score</code>
          <CopyButton text={`${endpoint.url}/score`} label={`Copy the URL of ${endpoint.name}`} />
        </dd>
        <dt>Key</dt>
        <dd>
          {endpoint.auth === 'key' ? (
            <>
              <code className="jp-ModelHub-key" aria-label="Key (hidden)">
                ••••••••••••
              </code>
              <CopyButton
                text={() => endpoints.primaryKey(endpoint.name)}
                label={`Copy the key of ${endpoint.name}`}
              />
            </>
          ) : (
            'none (auth none)'
          )}
        </dd>
      </dl>
      <section className="jp-ModelHub-detailSection" aria-label="Traffic">
        <h2>Traffic</h2>
        <TrafficEditor endpoints={endpoints} endpoint={endpoint} />
      </section>
      <MonitoringStrip state={watch} deployment={deployment.name} />
      <TryIt
        endpoints={endpoints}
        endpoint={endpoint.name}
        deployment={deployment}
        deployments={endpoint.deployments.map(d => d.name)}
      />
      <section className="jp-ModelHub-detailSection" aria-label="Log">
        <h2>Log (follows)</h2>
        {watch?.logError && <ErrorRetry message={watch.logError} label="Retry reading the log" />}
        <pre ref={logNode} className="jp-ModelHub-code jp-ModelHub-deploymentLog" tabIndex={0} aria-label={`Log of ${deployment.name}`}>
          {watch?.log || 'Nothing logged yet.'}
        </pre>
      </section>
      <section className="jp-ModelHub-detailSection" aria-label="Remove">
        {last ? (
          <button
            type="button"
            className="jp-ModelHub-undeploy jp-Button jp-mod-styled jp-mod-warn"
            aria-label={`Delete endpoint ${endpoint.name}`}
            disabled={change?.busy}
            onClick={async () => {
              if (
                await opener.confirm(
                  `Delete endpoint ${endpoint.name}?`,
                  `${deployment.name} is the last deployment of ${endpoint.name}: the endpoint, its URL and its keys are removed.`,
                  'Delete endpoint'
                )
              ) {
                void endpoints.deleteEndpoint(endpoint.name, deployment.name);
              }
            }}
          >
            Delete endpoint
          </button>
        ) : (
          <button
            type="button"
            className="jp-ModelHub-undeploy jp-Button jp-mod-styled jp-mod-warn"
            aria-label={`Remove deployment ${deployment.name} from ${endpoint.name}`}
            disabled={change?.busy}
            onClick={async () => {
              if (
                await opener.confirm(
                  `Remove ${deployment.name}?`,
                  `Deployment ${deployment.name} of ${endpoint.name} stops serving ${deployment.ref}.`,
                  'Remove'
                )
              ) {
                void endpoints.undeploy(endpoint.name, deployment.name);
              }
            }}
          >
            Undeploy
          </button>
        )}
      </section>
    </div>
  );
}
