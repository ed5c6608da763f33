/**
 * The detail view of one version (a main-area tab): what it is, its files,
 * signature and input example, properties and metrics, the conversion's
 * equivalence and speed reports, its model card, lineage, the notebook it came from, what
 * uses it, and every action, disabled with the server's reason where the
 * server would refuse it.
 */
import * as React from 'react';

import { UseSignal } from '@jupyterlab/ui-components';

import type { ActionName, IVersion } from '../../api';
import { absoluteTime, basename, cellText, formatSize } from '../../format';
import type { ModelHubModel } from '../../model';
import { useOpener } from '../../opener';
import { AliasRows, HistoryTimeline, PermissionsView, PromotionChecks } from '../governance';
import { ActionButton, Cell, Chips, ErrorRetry, TableHead, VersionLink } from '../shared';
import { ActionOutcome } from './ActionOutcome';
import { ConversionFacts, EquivalenceReport, SpeedReport } from './ConversionReports';
import { InputExample } from './InputExample';
import { LineageGraph } from './LineageGraph';
import { ModelCard } from './ModelCard';
import { ACTION_LABELS, actionName, startAction } from './actions';
import { splitRef } from './model';
import { ReportTable } from './ReportTable';
import { TagEditor } from './TagEditor';

/** Properties a conversion records, shown as reports of their own. */
const REPORTS = ['equivalence', 'speed', 'conversion'];

export function VersionDetail(props: {
  hub: ModelHubModel;
  name: string;
  version: number;
}): React.ReactElement {
  const { hub, name } = props;
  const models = hub.models;
  const ref = `${name}:${props.version}`;
  const state = models.detail(ref);
  const version = state?.version;
  if (state?.deleted) {
    return (
      <div className="jp-ModelHub-detail jp-ModelHub-versionDetail jp-mod-deleted" data-ref={ref}>
        <header className="jp-ModelHub-detailHeader">
          <h1 className="jp-ModelHub-detailTitle">{ref}</h1>
          <span className="jp-ModelHub-archived">deleted</span>
        </header>
        <p className="jp-ModelHub-note jp-ModelHub-deletedNote" role="status">
          {ref} was deleted from the registry: its files are gone and no action can be taken on it. Close this tab.
        </p>
      </div>
    );
  }
  if (!version) {
    return (
      <div className="jp-ModelHub-detail">
        {state?.error ? (
          <ErrorRetry
            message={state.error}
            label={`Retry loading ${ref}`}
            onRetry={() => void models.loadDetail(name, props.version)}
          />
        ) : (
          <div className="jp-ModelHub-loading" role="status">
            Loading {ref}…
          </div>
        )}
      </div>
    );
  }
  const properties = version.properties ?? {};
  const metrics = Object.fromEntries(Object.entries(properties).filter(([k]) => !REPORTS.includes(k)));
  return (
    <div className="jp-ModelHub-detail jp-ModelHub-versionDetail" data-ref={ref}>
      <header className="jp-ModelHub-detailHeader">
        <h1 className="jp-ModelHub-detailTitle">{ref}</h1>
        <span className="jp-ModelHub-flavorBadge">{version.flavor}</span>
        {version.archived && <span className="jp-ModelHub-archived">archived</span>}
        <Chips tags={null} aliases={(version.aliases ?? []).map(a => ({ alias: a, label: a }))} />
      </header>
      <TagEditor
        models={models}
        version={version}
        readOnly={version.actions?.tag && !version.actions.tag.allowed ? version.actions.tag.reason : null}
      />
      <p className="jp-ModelHub-detailMeta">
        Registered {absoluteTime(version.created_time)}
        {version.created_by ? ` by ${version.created_by}` : ''}, {formatSize(version.size)}.
        {version.description ? ` ${version.description}` : ''}
      </p>
      {state?.error && <ErrorRetry message={state.error} label={`Retry loading ${ref}`} />}
      <Actions hub={hub} version={version} />
      <UseSignal signal={hub.governance.changed}>
        {() => <PromotionChecks governance={hub.governance} version={version} />}
      </UseSignal>
      {/* its deployments and images come from the Endpoints and Images listings: redrawn as they change */}
      <UseSignal signal={hub.endpoints.changed}>
        {() => (
          <UseSignal signal={hub.images.changed}>{() => <Lineage hub={hub} version={version} />}</UseSignal>
        )}
      </UseSignal>
      <Files hub={hub} version={version} />
      <section aria-label="Signature" className="jp-ModelHub-detailSection">
        <h2>Signature</h2>
        {version.signature ? (
          <table className="jp-ModelHub-table jp-ModelHub-signature" aria-label={`Signature of ${ref}`}>
            <TableHead columns={['', 'name', 'dtype', 'shape']} />
            <tbody>
              {(['inputs', 'outputs'] as const).flatMap(side =>
                (version.signature?.[side] ?? []).map(spec => (
                  <tr key={`${side}:${spec.name}`}>
                    <td>{side === 'inputs' ? 'input' : 'output'}</td>
                    <td>{spec.name}</td>
                    <td>{spec.dtype}</td>
                    <td>[{(spec.shape ?? []).map(d => (d === -1 ? 'N' : String(d))).join(', ')}]</td>
                  </tr>
                ))
              )}
            </tbody>
          </table>
        ) : (
          <p className="jp-ModelHub-note">No signature recorded.</p>
        )}
      </section>
      <section aria-label="Input example" className="jp-ModelHub-detailSection">
        <h2>Input example</h2>
        <InputExample version={version} />
      </section>
      <UseSignal signal={hub.governance.changed}>
        {() => (
          <ModelCard
            client={hub.client}
            name={name}
            version={props.version}
            yours={hub.governance.permissions(name)?.data?.yours ?? null}
          />
        )}
      </UseSignal>
      <section aria-label="Properties and metrics" className="jp-ModelHub-detailSection">
        <h2>Properties and metrics</h2>
        {Object.keys(metrics).length ? (
          <Properties ref_={ref} properties={metrics} />
        ) : (
          <p className="jp-ModelHub-note">None recorded.</p>
        )}
      </section>
      {properties.equivalence !== undefined && (
        <section aria-label="equivalence report" className="jp-ModelHub-detailSection">
          <h2>Equivalence report</h2>
          <EquivalenceReport ref_={ref} report={properties.equivalence} conversion={properties.conversion} />
        </section>
      )}
      {properties.speed !== undefined && (
        <section aria-label="speed report" className="jp-ModelHub-detailSection">
          <h2>Speed report</h2>
          <SpeedReport ref_={ref} report={properties.speed} />
        </section>
      )}
      {properties.conversion !== undefined && (
        <section aria-label="conversion report" className="jp-ModelHub-detailSection">
          <h2>Conversion</h2>
          <ConversionFacts ref_={ref} info={properties.conversion} />
        </section>
      )}
      <UseSignal signal={hub.governance.changed}>
        {() => (
          <>
            <AliasRows governance={hub.governance} model={name} />
            <PermissionsView governance={hub.governance} rules={models.rules} model={name} />
            <HistoryTimeline governance={hub.governance} kind="model" name={name} />
          </>
        )}
      </UseSignal>
    </div>
  );
}

function Actions(props: { hub: ModelHubModel; version: IVersion }): React.ReactElement {
  const { hub, version } = props;
  const opener = useOpener();
  const busy = hub.models.actionState(version.ref)?.busy;
  const offered = (Object.keys(ACTION_LABELS) as ActionName[]).filter(action =>
    action === 'restore' ? version.archived : action === 'archive' ? !version.archived : true
  );
  return (
    <section aria-label="Actions" className="jp-ModelHub-detailSection">
      <div className="jp-ModelHub-actionBar" role="toolbar" aria-label={`Actions on ${version.ref}`}>
        {offered.map(action => (
          <ActionButton
            key={action}
            action={version.actions?.[action]}
            className={`jp-ModelHub-action-${action}`}
            label={ACTION_LABELS[action]}
            name={actionName(action, version.ref)}
            busy={busy}
            onClick={() => void startAction(hub.models, opener, version, action)}
          />
        ))}
      </div>
      <ActionOutcome models={hub.models} ref_={version.ref} />
    </section>
  );
}

function Lineage(props: { hub: ModelHubModel; version: IVersion }): React.ReactElement {
  const { hub, version } = props;
  const opener = useOpener();
  const link = (ref: string) => <VersionLink key={ref} reference={ref} className="jp-ModelHub-lineageLink" />;
  const deployments = hub.endpoints.endpoints.flatMap(endpoint =>
    endpoint.deployments
      .filter(d => d.ref === version.ref)
      .map(d => ({ endpoint: endpoint.name, deployment: d.name, state: d.state }))
  );
  const images = hub.images.images.filter(image => image.ref === version.ref);
  const versionNode = (ref: string, kind: string) => {
    const [name, number] = splitRef(ref);
    return { label: ref, kind, open: () => opener.openVersion(name, number) };
  };
  const lineage = {
    before: [
      ...(version.source_notebook
        ? [
            {
              label: basename(version.source_notebook),
              kind: 'notebook',
              open: () => opener.openPath(version.source_notebook as string)
            }
          ]
        : []),
      ...(version.derived_from ? [versionNode(version.derived_from, 'derived from')] : [])
    ],
    self: { label: version.ref, kind: 'this version' },
    after: [
      ...(version.derived_to ?? []).map(ref => versionNode(ref, 'derived to')),
      ...deployments.map(d => ({
        label: `${d.endpoint} / ${d.deployment}`,
        kind: `deployment, ${d.state}`,
        open: () => opener.openDeployment(d.endpoint, d.deployment)
      })),
      ...images.map(image => ({
        label: image.tag,
        kind: 'image',
        open: () => opener.openImage(image.id, image.tag)
      }))
    ]
  };
  return (
    <section aria-label="Lineage and use" className="jp-ModelHub-detailSection">
      <h2>Lineage and use</h2>
      <LineageGraph lineage={lineage} />
      <dl className="jp-ModelHub-facts">
        <dt>Derived from</dt>
        <dd>{version.derived_from ? link(version.derived_from) : 'nothing (registered from files)'}</dd>
        <dt>Derived to</dt>
        <dd>{version.derived_to?.length ? version.derived_to.map(link) : 'nothing yet'}</dd>
        <dt>Source notebook</dt>
        <dd>
          {version.source_notebook ? (
            <button
              type="button"
              className="jp-ModelHub-link jp-ModelHub-notebookLink"
              aria-label={`Open the notebook ${version.source_notebook}`}
              title={version.source_notebook}
              onClick={() => opener.openPath(version.source_notebook as string)}
            >
              {basename(version.source_notebook)}
            </button>
          ) : (
            'not recorded'
          )}
        </dd>
        <dt>Deployments</dt>
        <dd>
          {deployments.length
            ? deployments.map(d => (
                <button
                  key={`${d.endpoint}/${d.deployment}`}
                  type="button"
                  className="jp-ModelHub-link jp-ModelHub-deploymentLink"
                  aria-label={`Deployment ${d.deployment} of ${d.endpoint}`}
                  onClick={() => opener.openDeployment(d.endpoint, d.deployment)}
                >
                  {d.endpoint} ({d.deployment}, {d.state})
                </button>
              ))
            : 'none'}
        </dd>
        <dt>Images</dt>
        <dd>{images.length ? images.map(i => i.tag).join(', ') : 'none'}</dd>
        <dt>Used by</dt>
        <dd className="jp-ModelHub-usedBy">
          {version.used_by?.length ? version.used_by.join('; ') : 'nothing: it can be deleted'}
        </dd>
      </dl>
    </section>
  );
}

function Files(props: { hub: ModelHubModel; version: IVersion }): React.ReactElement {
  const { hub, version } = props;
  return (
    <section aria-label="Files" className="jp-ModelHub-detailSection">
      <h2>Files</h2>
      <table className="jp-ModelHub-table jp-ModelHub-files" aria-label={`Files of ${version.ref}`}>
        <TableHead columns={['path', 'size', 'sha256']} />
        <tbody>
          {version.files.map(file => (
            <tr key={file.path}>
              <td>
                <a
                  className="jp-ModelHub-fileLink"
                  href={hub.client.fileUrl(version.name, version.version, file.path)}
                  download={basename(file.path)}
                  aria-label={`Download ${file.path}`}
                >
                  {file.path}
                </a>
              </td>
              <Cell text={formatSize(file.size)} />
              <td>
                <code title={file.sha256 ?? ''}>{(file.sha256 ?? '').slice(0, 12)}</code>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

/**
 * Properties and metrics: numbers (metrics, an evaluation's metrics) as a
 * table of name and value; any other property as its own flattened rows.
 */
function Properties(props: { ref_: string; properties: { [key: string]: unknown } }): React.ReactElement {
  const metrics: [string, unknown][] = [];
  const rest: { [key: string]: unknown } = {};
  for (const [key, value] of Object.entries(props.properties)) {
    if (typeof value === 'number') {
      metrics.push([key, value]);
    } else if (key === 'metrics' && value && typeof value === 'object' && !Array.isArray(value)) {
      metrics.push(...Object.entries(value as { [key: string]: unknown }));
    } else if (key === 'evaluation' && value && typeof value === 'object' && !Array.isArray(value)) {
      // the evaluation's metrics are the version's metrics; what they were measured on stays a property
      const { metrics: measured, ...on } = value as { [key: string]: unknown };
      if (measured && typeof measured === 'object') {
        metrics.push(...Object.entries(measured as { [key: string]: unknown }).filter(([m]) => !metrics.some(([k]) => k === m)));
      }
      if (Object.keys(on).length) {
        rest[key] = on;
      }
    } else if (key === 'reference' && value && typeof value === 'object') {
      const profile = value as { rows?: number; source?: string };
      rest[key] = `profile of ${profile.rows ?? '?'} rows${profile.source ? ` (${profile.source})` : ''}`;
    } else {
      rest[key] = value;
    }
  }
  return (
    <>
      {metrics.length > 0 && (
        <table className="jp-ModelHub-table jp-ModelHub-metrics" aria-label={`Metrics of ${props.ref_}`}>
          <TableHead columns={['metric', 'value']} />
          <tbody>
            {metrics.map(([key, value]) => (
              <tr key={key}>
                <th scope="row">{key}</th>
                <Cell text={cellText(value)} />
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {Object.keys(rest).length > 0 && <ReportTable label={`Properties of ${props.ref_}`} report={rest} />}
    </>
  );
}
