/**
 * React components of the Model Hub panel.
 */
import * as React from 'react';

import { Clipboard } from '@jupyterlab/apputils';
import { copyIcon, refreshIcon } from '@jupyterlab/ui-components';

import { FLAVORS, IDeployment, IEndpoint, IModelSummary, IVersion } from './api';
import { ActivitySection, ProgressBar } from './components/activity';
import {
  absoluteTime,
  aliasLabels,
  formatSize,
  relativeTime,
  tagLabels,
  trafficLabel
} from './format';
import { IQuery, ModelHubModel } from './model';

/** Delay between the last keystroke and the request (ms). */
const TYPING_DELAY = 350;

export const EMPTY_MESSAGE = 'No models yet. Register one from a notebook:';
export const EMPTY_COMMAND = '%register NAME VARIABLE';

export const NO_ENDPOINTS_MESSAGE = 'No endpoints. Deploy one from a notebook:';
export const NO_ENDPOINTS_COMMAND = '%deploy NAME MODEL';

/** How long the copy button says "Copied" (ms). */
const COPIED_FEEDBACK = 1500;

/** The whole panel body. Re-rendered by the widget on every model change. */
export function ModelHubView(props: {
  model: ModelHubModel;
}): React.ReactElement {
  const { model } = props;
  return (
    <div className="jp-ModelHub-body">
      <div className="jp-ModelHub-header">
        <h2 className="jp-ModelHub-title">Model Hub</h2>
        <button
          type="button"
          className="jp-ModelHub-refresh jp-Button jp-mod-minimal"
          aria-label="Refresh models"
          title="Refresh models"
          disabled={model.loading}
          onClick={() => void model.refresh()}
        >
          <refreshIcon.react tag="span" className="jp-ModelHub-icon" />
        </button>
      </div>
      <QueryBar model={model} />
      <Status model={model} />
      <ModelList model={model} />
      <EndpointSection model={model} />
      <ActivitySection activity={model.activity} onReveal={model.reveal} />
    </div>
  );
}

/** Filter box, name search and flavor dropdown. */
function QueryBar(props: { model: ModelHubModel }): React.ReactElement {
  const { model } = props;
  const [filter, setFilter] = React.useState(model.query.filter);
  const [search, setSearch] = React.useState(model.query.search);
  const timer = React.useRef<ReturnType<typeof setTimeout> | null>(null);
  const errorId = 'jp-ModelHub-filter-error';

  const apply = React.useCallback(
    (query: Partial<IQuery>, delay: number) => {
      if (timer.current !== null) {
        clearTimeout(timer.current);
        timer.current = null;
      }
      if (delay <= 0) {
        void model.setQuery(query);
        return;
      }
      timer.current = setTimeout(() => {
        timer.current = null;
        void model.setQuery(query);
      }, delay);
    },
    [model]
  );

  React.useEffect(
    () => () => {
      if (timer.current !== null) {
        clearTimeout(timer.current);
      }
    },
    []
  );

  // Enter applies at once instead of waiting for the typing delay.
  const onKeyDown = (event: React.KeyboardEvent<HTMLInputElement>) => {
    if (event.key === 'Enter') {
      event.preventDefault();
      apply({ filter, search }, 0);
    }
  };

  const queryError = model.queryError;
  return (
    <form
      className="jp-ModelHub-query"
      role="search"
      onSubmit={event => {
        event.preventDefault();
        apply({ filter, search }, 0);
      }}
    >
      <label className="jp-ModelHub-label">
        <span className="jp-ModelHub-labelText">Tags</span>
        <input
          type="text"
          className={
            'jp-ModelHub-filter' +
            (queryError ? ' jp-mod-invalid' : '')
          }
          aria-label="Filter by tags"
          aria-invalid={queryError ? true : undefined}
          aria-describedby={queryError ? errorId : undefined}
          placeholder="team=growth stage!=dev owner"
          spellCheck={false}
          autoComplete="off"
          value={filter}
          onKeyDown={onKeyDown}
          onChange={event => {
            setFilter(event.target.value);
            apply({ filter: event.target.value, search }, TYPING_DELAY);
          }}
        />
      </label>
      {queryError && (
        <div id={errorId} className="jp-ModelHub-error" role="alert">
          {queryError}
        </div>
      )}
      <div className="jp-ModelHub-row">
        <input
          type="search"
          className="jp-ModelHub-search"
          aria-label="Search model names"
          placeholder="Name contains"
          spellCheck={false}
          autoComplete="off"
          value={search}
          onKeyDown={onKeyDown}
          onChange={event => {
            setSearch(event.target.value);
            apply({ filter, search: event.target.value }, TYPING_DELAY);
          }}
        />
        <select
          className="jp-ModelHub-flavor"
          aria-label="Flavor"
          value={model.query.flavor}
          onChange={event =>
            apply({ filter, search, flavor: event.target.value }, 0)
          }
        >
          <option value="">any flavor</option>
          {FLAVORS.map(flavor => (
            <option key={flavor} value={flavor}>
              {flavor}
            </option>
          ))}
        </select>
      </div>
    </form>
  );
}

/** Loading indicator and the non-query error with a retry button. */
function Status(props: { model: ModelHubModel }): React.ReactElement | null {
  const { model } = props;
  if (model.error) {
    return (
      <div className="jp-ModelHub-error jp-ModelHub-failure" role="alert">
        <span className="jp-ModelHub-errorText">{model.error}</span>
        <button
          type="button"
          className="jp-ModelHub-retry jp-Button jp-mod-styled jp-mod-accept"
          aria-label="Retry loading models"
          onClick={() => model.retry()}
        >
          Retry
        </button>
      </div>
    );
  }
  if (model.loading && !model.loaded) {
    return (
      <div className="jp-ModelHub-loading" role="status" aria-live="polite">
        Loading models…
      </div>
    );
  }
  return null;
}

function ModelList(props: { model: ModelHubModel }): React.ReactElement | null {
  const { model } = props;
  if (!model.loaded || model.queryError) {
    return null;
  }
  if (model.models.length === 0) {
    if (model.hasQuery) {
      return (
        <div className="jp-ModelHub-empty" role="status">
          No models match these filters.
        </div>
      );
    }
    return (
      <div className="jp-ModelHub-empty" role="status">
        {EMPTY_MESSAGE} <code>{EMPTY_COMMAND}</code>
      </div>
    );
  }
  return (
    <div className="jp-ModelHub-listWrapper">
      <div className="jp-ModelHub-count" aria-live="polite">
        {model.total === 1 ? '1 model' : `${model.total} models`}
      </div>
      <ul className="jp-ModelHub-list" aria-label="Models">
        {model.models.map(summary => (
          <ModelItem key={summary.name} model={model} summary={summary} />
        ))}
      </ul>
      {model.hasMore && (
        <button
          type="button"
          className="jp-ModelHub-more jp-Button jp-mod-styled"
          aria-label="Load more models"
          disabled={model.loading}
          onClick={() => void model.loadMore()}
        >
          Load more ({model.total - model.models.length} left)
        </button>
      )}
    </div>
  );
}

function Chips(props: {
  tags: { [key: string]: string } | null;
  aliases?: { alias: string; label: string }[];
}): React.ReactElement | null {
  const tags = tagLabels(props.tags);
  const aliases = props.aliases ?? [];
  if (tags.length === 0 && aliases.length === 0) {
    return null;
  }
  return (
    <span className="jp-ModelHub-chips">
      {aliases.map(a => (
        <span key={`alias:${a.alias}`} className="jp-ModelHub-alias">
          {a.label}
        </span>
      ))}
      {tags.map(tag => (
        <span key={`tag:${tag}`} className="jp-ModelHub-tag">
          {tag}
        </span>
      ))}
    </span>
  );
}

function ModelItem(props: {
  model: ModelHubModel;
  summary: IModelSummary;
}): React.ReactElement {
  const { model, summary } = props;
  const expanded = model.isExpanded(summary.name);
  const versionsId = `jp-ModelHub-versions-${cssSafe(summary.name)}`;
  return (
    <li
      className={'jp-ModelHub-model' + (expanded ? ' jp-mod-expanded' : '')}
      data-model={summary.name}
    >
      <button
        type="button"
        className="jp-ModelHub-modelButton"
        aria-expanded={expanded}
        aria-controls={versionsId}
        aria-label={`${summary.name}, latest version ${summary.latest_version}, ${versionCount(summary.version_count)}. ${expanded ? 'Hide' : 'Show'} versions`}
        title={summary.description || summary.name}
        onClick={() => model.toggle(summary.name)}
      >
        <span className="jp-ModelHub-caret" aria-hidden="true">
          {expanded ? '\u25BE' : '\u25B8'}
        </span>
        <span className="jp-ModelHub-modelName">{summary.name}</span>
        <span className="jp-ModelHub-latest">v{summary.latest_version}</span>
        <span className="jp-ModelHub-flavorBadge">{summary.flavor}</span>
        <span className="jp-ModelHub-versionCount">
          {versionCount(summary.version_count)}
        </span>
      </button>
      <Chips tags={summary.tags} aliases={aliasLabels(summary.aliases)} />
      {expanded && (
        <VersionList model={model} name={summary.name} id={versionsId} />
      )}
    </li>
  );
}

function VersionList(props: {
  model: ModelHubModel;
  name: string;
  id: string;
}): React.ReactElement {
  const { model, name, id } = props;
  const state = model.versions(name);
  return (
    <div className="jp-ModelHub-versions" id={id}>
      {state?.error && (
        <div className="jp-ModelHub-error" role="alert">
          {state.error}
          <button
            type="button"
            className="jp-ModelHub-retry jp-Button jp-mod-styled"
            aria-label={`Retry loading versions of ${name}`}
            onClick={() => void model.loadVersions(name)}
          >
            Retry
          </button>
        </div>
      )}
      {(!state || (state.loading && state.versions.length === 0)) && (
        <div className="jp-ModelHub-loading" role="status">
          Loading versions…
        </div>
      )}
      {state && state.versions.length > 0 && (
        <ul className="jp-ModelHub-versionList" aria-label={`Versions of ${name}`}>
          {state.versions.map(version => (
            <VersionItem
              key={version.version}
              model={model}
              version={version}
            />
          ))}
        </ul>
      )}
      {state && state.total > state.versions.length && (
        <div className="jp-ModelHub-note">
          Showing the newest {state.versions.length} of {state.total} versions.
        </div>
      )}
    </div>
  );
}

function VersionItem(props: {
  model: ModelHubModel;
  version: IVersion;
}): React.ReactElement {
  const { model, version } = props;
  const ref = version.ref || `${version.name}:${version.version}`;
  const conversion = model.conversion(ref);
  const selected = model.isSelectedVersion(version.name, version.version);
  const node = useScrollIntoView<HTMLLIElement>(selected, model.selection);
  const aliases = [...(version.aliases ?? [])]
    .sort()
    .map(alias => ({ alias, label: alias }));
  return (
    <li
      ref={node}
      className={
        'jp-ModelHub-version' +
        (version.archived ? ' jp-mod-archived' : '') +
        (selected ? ' jp-mod-selected' : '')
      }
      data-version={version.version}
      aria-current={selected ? true : undefined}
    >
      <div className="jp-ModelHub-versionHeader">
        <span className="jp-ModelHub-versionNumber">v{version.version}</span>
        <span className="jp-ModelHub-flavorBadge">{version.flavor}</span>
        {version.archived && (
          <span className="jp-ModelHub-archived">archived</span>
        )}
        <time
          className="jp-ModelHub-time"
          dateTime={version.created_time}
          title={absoluteTime(version.created_time)}
        >
          {relativeTime(version.created_time)}
        </time>
      </div>
      <Chips tags={version.tags} aliases={aliases} />
      <div className="jp-ModelHub-versionMeta">
        {version.created_by && (
          <span className="jp-ModelHub-author" title={version.created_by}>
            by {version.created_by}
          </span>
        )}
        {version.size > 0 && <span>{formatSize(version.size)}</span>}
        {version.derived_from && <span>from {version.derived_from}</span>}
        {version.source_notebook && (
          <span title={version.source_notebook}>
            {basename(version.source_notebook)}
          </span>
        )}
      </div>
      {version.description && (
        <div className="jp-ModelHub-description">{version.description}</div>
      )}
      {version.flavor === 'sklearn' && (
        <div className="jp-ModelHub-versionActions">
          <button
            type="button"
            className={
              'jp-ModelHub-convert' + (conversion?.busy ? ' jp-mod-busy' : '')
            }
            aria-label={`Convert ${ref} to ONNX`}
            title={`Convert ${ref} to ONNX, check it is equivalent and time it`}
            aria-busy={conversion?.busy ? true : undefined}
            disabled={conversion?.busy}
            onClick={() => void model.convert(version.name, version.version)}
          >
            {conversion?.busy ? 'Converting…' : 'Convert to ONNX'}
          </button>
        </div>
      )}
      {conversion?.busy && conversion.operation && (
        <div className="jp-ModelHub-convertProgress">
          <ProgressBar
            operation={conversion.operation}
            label={`Progress of the conversion of ${ref}`}
          />
        </div>
      )}
      {conversion?.message && (
        <div
          className={
            'jp-ModelHub-convertResult ' +
            (conversion.error ? 'jp-ModelHub-error' : 'jp-ModelHub-success')
          }
          role={conversion.error ? 'alert' : 'status'}
        >
          <span className="jp-ModelHub-convertText">{conversion.message}</span>
          <button
            type="button"
            className="jp-ModelHub-dismiss"
            aria-label={`Dismiss the conversion message of ${ref}`}
            title="Dismiss"
            onClick={() => model.dismissConversion(ref)}
          >
            ×
          </button>
        </div>
      )}
    </li>
  );
}

/** The collapsible list of online endpoints under the models. */
function EndpointSection(props: {
  model: ModelHubModel;
}): React.ReactElement {
  const { model } = props;
  const state = model.endpoints;
  const expanded = model.endpointsExpanded;
  const listId = 'jp-ModelHub-endpointList';
  const count = state.loaded ? ` (${state.endpoints.length})` : '';
  return (
    <section className="jp-ModelHub-endpoints" aria-label="Endpoints">
      <button
        type="button"
        className="jp-ModelHub-sectionToggle"
        aria-expanded={expanded}
        aria-controls={listId}
        onClick={() => model.toggleEndpoints()}
      >
        <span className="jp-ModelHub-caret" aria-hidden="true">
          {expanded ? '\u25BE' : '\u25B8'}
        </span>
        <span className="jp-ModelHub-sectionTitle">Endpoints{count}</span>
      </button>
      {expanded && (
        <div id={listId} className="jp-ModelHub-endpointBody">
          {state.error && (
            <div className="jp-ModelHub-error" role="alert">
              <span className="jp-ModelHub-errorText">{state.error}</span>
              <button
                type="button"
                className="jp-ModelHub-retry jp-Button jp-mod-styled"
                aria-label="Retry loading endpoints"
                onClick={() => void model.loadEndpoints()}
              >
                Retry
              </button>
            </div>
          )}
          {!state.loaded && !state.error && (
            <div className="jp-ModelHub-loading" role="status">
              Loading endpoints…
            </div>
          )}
          {state.loaded && state.endpoints.length === 0 && (
            <div className="jp-ModelHub-empty" role="status">
              {NO_ENDPOINTS_MESSAGE} <code>{NO_ENDPOINTS_COMMAND}</code>
            </div>
          )}
          {state.endpoints.length > 0 && (
            <ul className="jp-ModelHub-endpointList" aria-label="Endpoints">
              {state.endpoints.map(endpoint => (
                <EndpointItem
                  key={endpoint.name}
                  endpoint={endpoint}
                  selected={model.isSelectedEndpoint(endpoint.name)}
                  selection={model.selection}
                />
              ))}
            </ul>
          )}
        </div>
      )}
    </section>
  );
}

function StateBadge(props: {
  state: string;
  className: string;
}): React.ReactElement {
  const state = props.state || 'unknown';
  return (
    <span className={`${props.className} jp-ModelHub-state jp-mod-${cssSafe(state)}`}>
      {state}
    </span>
  );
}

function EndpointItem(props: {
  endpoint: IEndpoint;
  selected: boolean;
  selection: unknown;
}): React.ReactElement {
  const { endpoint, selected } = props;
  const deployments = endpoint.deployments ?? [];
  const node = useScrollIntoView<HTMLLIElement>(selected, props.selection);
  return (
    <li
      ref={node}
      className={'jp-ModelHub-endpoint' + (selected ? ' jp-mod-selected' : '')}
      data-endpoint={endpoint.name}
      data-state={endpoint.state}
      aria-current={selected ? true : undefined}
    >
      <div className="jp-ModelHub-endpointHeader">
        <span className="jp-ModelHub-endpointName">{endpoint.name}</span>
        <StateBadge
          state={endpoint.state}
          className="jp-ModelHub-endpointState"
        />
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
      {deployments.length > 0 && (
        <ul
          className="jp-ModelHub-deploymentList"
          aria-label={`Deployments of ${endpoint.name}`}
        >
          {deployments.map(deployment => (
            <DeploymentItem
              key={deployment.name}
              endpoint={endpoint}
              deployment={deployment}
            />
          ))}
        </ul>
      )}
    </li>
  );
}

function DeploymentItem(props: {
  endpoint: IEndpoint;
  deployment: IDeployment;
}): React.ReactElement {
  const { endpoint, deployment } = props;
  const mirror = endpoint.mirror ?? {};
  const mirrored =
    mirror.deployment === deployment.name && typeof mirror.percent === 'number';
  const requested =
    deployment.requested && deployment.requested !== deployment.ref
      ? `requested ${deployment.requested}`
      : undefined;
  return (
    <li
      className="jp-ModelHub-deployment"
      data-deployment={deployment.name}
      data-state={deployment.state}
    >
      <div className="jp-ModelHub-deploymentHeader">
        <span className="jp-ModelHub-deploymentName">{deployment.name}</span>
        <span className="jp-ModelHub-deploymentRef" title={requested}>
          {deployment.ref}
        </span>
        <StateBadge
          state={deployment.state}
          className="jp-ModelHub-deploymentState"
        />
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
            {deployment.restarts === 1
              ? '1 restart'
              : `${deployment.restarts} restarts`}
          </span>
        )}
      </div>
      {deployment.state !== 'healthy' && deployment.reason && (
        <div className="jp-ModelHub-reason">{deployment.reason}</div>
      )}
    </li>
  );
}

/** A small button that copies `text` and says so for a moment. */
function CopyButton(props: { text: string; label: string }): React.ReactElement {
  const [copied, setCopied] = React.useState(false);
  const timer = React.useRef<ReturnType<typeof setTimeout> | null>(null);
  React.useEffect(
    () => () => {
      if (timer.current !== null) {
        clearTimeout(timer.current);
      }
    },
    []
  );
  return (
    <button
      type="button"
      className="jp-ModelHub-copy jp-Button jp-mod-minimal"
      aria-label={props.label}
      title={copied ? 'Copied' : 'Copy URL'}
      onClick={() => {
        Clipboard.copyToSystem(props.text);
        setCopied(true);
        if (timer.current !== null) {
          clearTimeout(timer.current);
        }
        timer.current = setTimeout(() => {
          timer.current = null;
          setCopied(false);
        }, COPIED_FEEDBACK);
      }}
    >
      {copied ? (
        <span className="jp-ModelHub-copied">Copied</span>
      ) : (
        <copyIcon.react tag="span" className="jp-ModelHub-icon" />
      )}
    </button>
  );
}

/**
 * A ref for an element to scroll into view when it becomes selected, and
 * again each time the same selection is asked for anew (`selection` changes).
 */
function useScrollIntoView<T extends HTMLElement>(
  selected: boolean,
  selection: unknown
): React.RefObject<T> {
  const node = React.useRef<T>(null);
  React.useEffect(() => {
    if (selected) {
      node.current?.scrollIntoView({ block: 'nearest', behavior: 'smooth' });
    }
  }, [selected, selection]);
  return node;
}

function versionCount(count: number): string {
  return count === 1 ? '1 version' : `${count} versions`;
}

function basename(path: string): string {
  const parts = path.split('/');
  return parts[parts.length - 1] || path;
}

function cssSafe(name: string): string {
  return name.replace(/[^A-Za-z0-9_-]/g, '_');
}
