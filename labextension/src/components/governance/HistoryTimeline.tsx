/**
 * The timeline of a model or an endpoint (issue 21): every change newest
 * first, with who made it and from where, when (on the panel's one clock),
 * what changed and its old and new values; filters by action and user, and on
 * an endpoint "what served at" a moment, answered from the same history.
 */
import * as React from 'react';

import type { IHistoryEntry, IServedState } from '../../api';
import { absoluteTime } from '../../format';
import { ErrorRetry, RelativeTime } from '../shared';
import { GovernanceModel, SubjectKey, subjectKey, valueText } from './model';

/** The actions offered in the filter, per kind of subject (the server's words). */
const ACTIONS: { [kind: string]: string[] } = {
  model: [
    'version.registered',
    'version.updated',
    'version.deleted',
    'alias.moved',
    'alias.deleted',
    'permission.changed',
    'deployment.changed',
    'deployment.deleted'
  ],
  endpoint: ['deployment.changed', 'deployment.deleted', 'traffic.changed', 'keys.regenerated', 'endpoint.deleted']
};

export function HistoryTimeline(props: {
  governance: GovernanceModel;
  kind: 'model' | 'endpoint';
  name: string;
}): React.ReactElement {
  const { governance, kind, name } = props;
  const key: SubjectKey = subjectKey(kind, name);
  const loaded = governance.history(key);
  const filter = governance.filter(key);
  const [user, setUser] = React.useState(filter.user);
  const entries = loaded?.data?.entries ?? [];
  const filtered = !!(filter.action || filter.user);
  return (
    <section className="jp-ModelHub-detailSection jp-ModelHub-history" aria-label={`History of ${name}`}>
      <h2>History</h2>
      <form
        className="jp-ModelHub-historyFilter"
        aria-label={`Filter the history of ${name}`}
        onSubmit={event => {
          event.preventDefault();
          governance.setFilter(key, { user: user.trim() });
        }}
      >
        <label className="jp-ModelHub-label">
          <span className="jp-ModelHub-labelText">Action</span>
          <select
            className="jp-ModelHub-historyAction"
            value={filter.action}
            onChange={event => governance.setFilter(key, { action: event.target.value })}
          >
            <option value="">any</option>
            {ACTIONS[kind].map(action => (
              <option key={action} value={action}>
                {action}
              </option>
            ))}
          </select>
        </label>
        <label className="jp-ModelHub-label">
          <span className="jp-ModelHub-labelText">User</span>
          <input
            className="jp-ModelHub-historyUser"
            type="text"
            value={user}
            maxLength={128}
            placeholder="anyone"
            onChange={event => setUser(event.target.value)}
            onBlur={() => user.trim() !== filter.user && governance.setFilter(key, { user: user.trim() })}
          />
        </label>
        {kind === 'endpoint' && (
          <label className="jp-ModelHub-label">
            <span className="jp-ModelHub-labelText">What served at</span>
            <input
              className="jp-ModelHub-historyAt"
              type="datetime-local"
              step={1}
              value={filter.at}
              onChange={event => governance.setFilter(key, { at: event.target.value })}
            />
          </label>
        )}
        {(filtered || filter.at) && (
          <button
            type="button"
            className="jp-ModelHub-clearFilter jp-Button jp-mod-styled"
            onClick={() => {
              setUser('');
              governance.setFilter(key, { action: '', user: '', at: '' });
            }}
          >
            Clear
          </button>
        )}
      </form>
      {loaded?.error && (
        <ErrorRetry message={loaded.error} label={`Retry loading the history of ${name}`} onRetry={() => void governance.load(key)} />
      )}
      {kind === 'endpoint' && filter.at && loaded?.data && <ServedAt state={loaded.data.state ?? null} />}
      {!loaded?.data && !loaded?.error && (
        <p className="jp-ModelHub-loading" role="status">
          Loading the history…
        </p>
      )}
      {loaded?.data && entries.length === 0 && (
        <p className="jp-ModelHub-note" role="status">
          {filtered ? 'No change matches the filter.' : 'No change recorded yet.'}
        </p>
      )}
      {entries.length > 0 && (
        <ol className="jp-ModelHub-timeline" aria-label={`Changes to ${name}, newest first`}>
          {entries.map(entry => (
            <TimelineEntry key={entry.id} entry={entry} />
          ))}
        </ol>
      )}
      {loaded?.data?.more && (
        <p className="jp-ModelHub-note">Older changes match too: narrow the filter to see them.</p>
      )}
    </section>
  );
}

function TimelineEntry(props: { entry: IHistoryEntry }): React.ReactElement {
  const { entry } = props;
  const created = entry.old === null || entry.old === undefined;
  const removed = entry.new === null || entry.new === undefined;
  return (
    <li className="jp-ModelHub-timelineEntry" data-action={entry.action} data-subject={entry.subject}>
      <div className="jp-ModelHub-timelineHead">
        <span className="jp-ModelHub-timelineAction">{entry.action}</span>
        <span className="jp-ModelHub-timelineSubject">{entry.subject}</span>
      </div>
      <div className="jp-ModelHub-timelineChange">
        {created && removed ? null : created ? (
          <span>set to {valueText(entry.new)}</span>
        ) : removed ? (
          <span>{valueText(entry.old)} removed</span>
        ) : (
          <span>
            {valueText(entry.old)} {'\u2192'} {valueText(entry.new)}
          </span>
        )}
      </div>
      <div className="jp-ModelHub-timelineWho">
        <span className="jp-ModelHub-timelineUser">{entry.user || 'unknown'}</span>
        {entry.client && <span className="jp-ModelHub-timelineClient"> (from the {entry.client})</span>}
        {', '}
        <RelativeTime iso={entry.at} />
      </div>
    </li>
  );
}

function ServedAt(props: { state: IServedState | null }): React.ReactElement {
  const { state } = props;
  if (!state) {
    return (
      <p className="jp-ModelHub-note jp-ModelHub-servedAt" role="status">
        Nothing is recorded as serving then.
      </p>
    );
  }
  return (
    <div className="jp-ModelHub-servedAt" role="status" aria-label="What served then">
      <p>
        At {absoluteTime(state.at)}, {state.endpoint} served:
      </p>
      {state.deployments.length ? (
        <ul>
          {state.deployments.map(d => (
            <li key={d.deployment}>
              {d.deployment}: {d.model}:{d.version} ({state.traffic[d.deployment] ?? 0}% of live traffic, since{' '}
              {absoluteTime(d.since)})
            </li>
          ))}
        </ul>
      ) : (
        <p>no deployment.</p>
      )}
    </div>
  );
}
