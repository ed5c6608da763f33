/**
 * The main-area page of an endpoint (issue 23), opened from its name: its
 * deployments, the traffic editor with a live total and a rollback, its keys
 * (for those who may write), try-it with a deployment picker, the logs with a
 * "hide probes" filter, its history with "what served at", payload collection
 * on/off with its counts, its traffic over time as the server recorded it
 * (TrafficCharts), and its monitoring over a window (MonitorReport).
 */
import * as React from 'react';

import { UseSignal } from '@jupyterlab/ui-components';

import type { IEndpoint } from '../../api';
import { absoluteTime, formatSize, trafficLabel } from '../../format';
import type { ModelHubModel } from '../../model';
import { useOpener } from '../../opener';
import { ChangeBanner, HistoryTimeline } from '../governance';
import { trafficText } from '../governance/model';
import { CopyButton, ErrorRetry, StateBadge, TableHead, VersionLink } from '../shared';
import { collectKey, EndpointsModel, withoutProbes } from './model';
import { MonitoringStrip } from './MonitoringStrip';
import { MonitorReport } from './MonitorReport';
import { TrafficCharts } from './TrafficCharts';
import { TrafficEditor } from './TrafficEditor';
import { TryIt } from './TryIt';

export function EndpointPage(props: { hub: ModelHubModel; endpoint: string }): React.ReactElement {
  const { hub } = props;
  const endpoints = hub.endpoints;
  const endpoint = endpoints.find(props.endpoint);
  if (!endpoint) {
    return (
      <div className="jp-ModelHub-detail jp-ModelHub-endpointPage" role="status">
        {endpoints.error ? (
          <ErrorRetry message={endpoints.error} label="Retry loading the endpoints" onRetry={() => void endpoints.reload()} />
        ) : endpoints.loaded ? (
          `There is no endpoint ${props.endpoint} (any more).`
        ) : (
          'Loading…'
        )}
      </div>
    );
  }
  return (
    <div className="jp-ModelHub-detail jp-ModelHub-endpointPage" data-endpoint={endpoint.name}>
      <header className="jp-ModelHub-detailHeader">
        <h1 className="jp-ModelHub-detailTitle">{endpoint.name}</h1>
        <StateBadge state={endpoint.state} className="jp-ModelHub-endpointState" />
      </header>
      <p className="jp-ModelHub-detailMeta">
        <code>{endpoint.url}/score</code>
        <CopyButton text={`${endpoint.url}/score`} label={`Copy the URL of ${endpoint.name}`} /> Created{' '}
        {absoluteTime(endpoint.created_time)}
        {endpoint.created_by ? ` by ${endpoint.created_by}` : ''}.
      </p>
      <Deployments endpoint={endpoint} />
      <section className="jp-ModelHub-detailSection" aria-label="Traffic">
        <h2>Traffic</h2>
        <TrafficEditor endpoints={endpoints} endpoint={endpoint} />
        <UseSignal signal={hub.governance.changed}>{() => <TrafficRollback hub={hub} endpoint={endpoint.name} />}</UseSignal>
      </section>
      <TrafficCharts client={hub.client} endpoint={endpoint.name} />
      <Keys endpoints={endpoints} endpoint={endpoint} />
      {endpoint.deployments.length > 0 && (
        <TryIt
          endpoints={endpoints}
          endpoint={endpoint.name}
          deployment={primaryDeployment(endpoint)}
          deployments={endpoint.deployments.map(d => d.name)}
        />
      )}
      <Logs endpoints={endpoints} endpoint={endpoint} />
      <Collection endpoints={endpoints} endpoint={endpoint} />
      <Monitoring endpoints={endpoints} endpoint={endpoint} />
      <UseSignal signal={hub.governance.changed}>
        {() => <HistoryTimeline governance={hub.governance} kind="endpoint" name={endpoint.name} />}
      </UseSignal>
    </div>
  );
}

/** The deployment that takes the most traffic (the one try-it starts with). */
function primaryDeployment(endpoint: IEndpoint) {
  return [...endpoint.deployments].sort((a, b) => (endpoint.traffic[b.name] ?? 0) - (endpoint.traffic[a.name] ?? 0))[0];
}

function Deployments(props: { endpoint: IEndpoint }): React.ReactElement {
  const { endpoint } = props;
  const opener = useOpener();
  return (
    <section className="jp-ModelHub-detailSection" aria-label="Deployments">
      <h2>Deployments</h2>
      {endpoint.deployments.length === 0 ? (
        <p className="jp-ModelHub-note">No deployments: it answers nothing.</p>
      ) : (
        <table className="jp-ModelHub-table jp-ModelHub-pageDeployments" aria-label={`Deployments of ${endpoint.name}`}>
          <TableHead columns={['deployment', 'serves', 'state', 'traffic', 'restarts']} />
          <tbody>
            {endpoint.deployments.map(d => (
              <tr key={d.name} data-deployment={d.name}>
                <td>
                  <button
                    type="button"
                    className="jp-ModelHub-link"
                    aria-label={`Details of deployment ${d.name} of ${endpoint.name}`}
                    onClick={() => opener.openDeployment(endpoint.name, d.name)}
                  >
                    {d.name}
                  </button>
                </td>
                <td>
                  <VersionLink reference={d.ref} />
                </td>
                <td>
                  <StateBadge state={d.state} className="jp-ModelHub-deploymentState" />
                  {d.state !== 'healthy' && d.reason ? <div className="jp-ModelHub-reason">{d.reason}</div> : null}
                </td>
                <td>{trafficLabel(endpoint.traffic, d.name)}</td>
                <td>{d.restarts}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function TrafficRollback(props: { hub: ModelHubModel; endpoint: string }): React.ReactElement {
  const { hub, endpoint } = props;
  const governance = hub.governance;
  const opener = useOpener();
  const target = governance.trafficRollbackTarget(endpoint);
  const key = `rollback-traffic:${endpoint}`;
  const busy = governance.change(key)?.busy;
  return (
    <div className="jp-ModelHub-trafficRollback">
      <div className="jp-ModelHub-row">
        <button
          type="button"
          className="jp-ModelHub-rollbackTraffic jp-Button jp-mod-styled"
          aria-label={`Roll back the traffic of ${endpoint}`}
          disabled={busy || target === null}
          onClick={async () => {
            if (!target) {
              return;
            }
            const sure = await opener.confirm(
              `Roll back the traffic of ${endpoint}?`,
              `The traffic returns to ${trafficText(target.traffic)}, as it was before ${target.entry.user || 'someone'} ` +
                `changed it on ${absoluteTime(target.entry.at)}. The rollback is recorded in the history.`,
              'Roll back'
            );
            if (sure) {
              void governance.rollbackTraffic(endpoint);
            }
          }}
        >
          Rollback traffic
        </button>
        {target === null ? (
          <span className="jp-ModelHub-reasonText">Never changed: nothing to return to.</span>
        ) : (
          <span className="jp-ModelHub-note">returns to {trafficText(target.traffic)}</span>
        )}
      </div>
      <ChangeBanner governance={governance} changeKey={key} about={`traffic rollback of ${endpoint}`} />
    </div>
  );
}

function Keys(props: { endpoints: EndpointsModel; endpoint: IEndpoint }): React.ReactElement {
  const { endpoints, endpoint } = props;
  const page = endpoints.pageState(endpoint.name);
  return (
    <section className="jp-ModelHub-detailSection jp-ModelHub-keys" aria-label="Keys">
      <h2>Keys</h2>
      {endpoint.auth !== 'key' ? (
        <p className="jp-ModelHub-note">None: this endpoint answers without a key (auth {endpoint.auth}).</p>
      ) : page?.keysAllowed ? (
        <p>
          <code className="jp-ModelHub-key" aria-label="Primary key (hidden)">
            ••••••••••••
          </code>
          <CopyButton text={() => endpoints.primaryKey(endpoint.name)} label={`Copy the key of ${endpoint.name}`} />
        </p>
      ) : page?.keysAllowed === false ? (
        <p className="jp-ModelHub-reasonText jp-ModelHub-keysRefused">Keys are shown to those who may write: {page.keysReason}</p>
      ) : (
        <p className="jp-ModelHub-loading" role="status">
          Checking whether you may read the keys…
        </p>
      )}
    </section>
  );
}

function Logs(props: { endpoints: EndpointsModel; endpoint: IEndpoint }): React.ReactElement {
  const { endpoints, endpoint } = props;
  const names = endpoint.deployments.map(d => d.name);
  const [chosen, setChosen] = React.useState(names[0] ?? '');
  const [hideProbes, setHideProbes] = React.useState(true);
  const deployment = names.includes(chosen) ? chosen : names[0] ?? '';
  const watch = deployment ? endpoints.watched(endpoint.name, deployment) : undefined;
  const logNode = React.useRef<HTMLPreElement>(null);
  const text = watch ? (hideProbes ? withoutProbes(watch.log) : watch.log) : '';
  React.useEffect(() => {
    logNode.current?.scrollTo({ top: logNode.current.scrollHeight });
  }, [text]);
  if (!deployment) {
    return (
      <section className="jp-ModelHub-detailSection" aria-label="Logs">
        <h2>Logs</h2>
        <p className="jp-ModelHub-note">No deployment, no log.</p>
      </section>
    );
  }
  return (
    <section className="jp-ModelHub-detailSection jp-ModelHub-pageLogs" aria-label="Logs">
      <h2>Logs (follow)</h2>
      <div className="jp-ModelHub-row">
        <label className="jp-ModelHub-label">
          <span className="jp-ModelHub-labelText">Deployment</span>
          <select className="jp-ModelHub-logDeployment" value={deployment} onChange={event => setChosen(event.target.value)}>
            {names.map(name => (
              <option key={name} value={name}>
                {name}
              </option>
            ))}
          </select>
        </label>
        <label className="jp-ModelHub-label jp-ModelHub-checkbox">
          <input
            type="checkbox"
            className="jp-ModelHub-hideProbes"
            checked={hideProbes}
            onChange={event => setHideProbes(event.target.checked)}
          />
          <span>Hide probes (health, readiness, metrics)</span>
        </label>
      </div>
      {watch?.logError && <ErrorRetry message={watch.logError} label="Retry reading the log" />}
      <pre ref={logNode} className="jp-ModelHub-code jp-ModelHub-deploymentLog" tabIndex={0} aria-label={`Log of ${deployment}`}>
        {text.trim() || (watch?.log.trim() ? 'Only probes so far: untick "Hide probes" to see them.' : 'Nothing logged yet.')}
      </pre>
    </section>
  );
}

function Collection(props: { endpoints: EndpointsModel; endpoint: IEndpoint }): React.ReactElement {
  const { endpoints, endpoint } = props;
  const collect = endpoint.collect;
  const on = !!collect?.enabled && (collect.collect ?? []).length > 0;
  const change = endpoints.changeState(collectKey(endpoint.name));
  const busy = change?.busy;
  const figures: [string, string][] = collect
    ? [
        ['sampled', String(collect.sampled)],
        ['written', String(collect.written)],
        ['committed', String(collect.committed)],
        ['files', String(collect.files)],
        ['size', formatSize(collect.bytes)],
        ['dropped', String(collect.dropped)],
        ['failed', String(collect.failed)]
      ]
    : [];
  return (
    <section className="jp-ModelHub-detailSection jp-ModelHub-collection" aria-label="Payload collection">
      <h2>Payload collection</h2>
      <div className="jp-ModelHub-row">
        <span className="jp-ModelHub-collectState">
          {on
            ? `On: ${collect?.collect.join(' and ')}, ${Math.round((collect?.sample_rate ?? 1) * 100)}% of requests, kept ${collect?.collect_retention}.`
            : 'Off: requests and answers are not recorded.'}
        </span>
        <button
          type="button"
          className="jp-ModelHub-toggleCollect jp-Button jp-mod-styled"
          aria-label={on ? `Stop collecting on ${endpoint.name}` : `Collect requests and answers on ${endpoint.name}`}
          aria-busy={busy ? true : undefined}
          disabled={busy}
          onClick={() => void endpoints.setCollecting(endpoint.name, !on)}
        >
          {on ? 'Switch off' : 'Switch on'}
        </button>
      </div>
      {figures.length > 0 && (
        <dl className="jp-ModelHub-strip" aria-label={`Collection counts of ${endpoint.name}`}>
          {figures.map(([label, value]) => (
            <div key={label} className="jp-ModelHub-stripCell" data-figure={label}>
              <dt>{label}</dt>
              <dd>{value}</dd>
            </div>
          ))}
        </dl>
      )}
      {collect?.last_error && <p className="jp-ModelHub-error">Last write error: {collect.last_error}</p>}
      {change && !change.busy && (change.error || change.message) && (
        <div className={change.error ? 'jp-ModelHub-error' : 'jp-ModelHub-success'} role={change.error ? 'alert' : 'status'}>
          <span className="jp-ModelHub-actionText">{change.error ?? change.message}</span>
          <button
            type="button"
            className="jp-ModelHub-dismiss"
            aria-label={`Dismiss the message about collection on ${endpoint.name}`}
            title="Dismiss"
            onClick={() => endpoints.dismissChange(collectKey(endpoint.name))}
          >
            ×
          </button>
        </div>
      )}
    </section>
  );
}

function Monitoring(props: { endpoints: EndpointsModel; endpoint: IEndpoint }): React.ReactElement {
  const { endpoints, endpoint } = props;
  const monitor = endpoints.pageState(endpoint.name)?.monitor;
  const primary = endpoint.deployments.length ? primaryDeployment(endpoint) : undefined;
  return (
    <section className="jp-ModelHub-detailSection jp-ModelHub-monitoring" aria-label="Monitoring over time">
      <h2>Monitoring</h2>
      {monitor && <MonitorReport endpoints={endpoints} endpoint={endpoint.name} monitor={monitor} />}
      {primary && (
        <MonitoringStrip
          state={endpoints.watched(endpoint.name, primary.name)}
          deployment={primary.name}
          title={`Counters of ${primary.name}`}
        />
      )}
    </section>
  );
}
