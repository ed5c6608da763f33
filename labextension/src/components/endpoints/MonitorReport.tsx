/**
 * The Monitoring section of an endpoint's page (issues 22 and 23): the report of
 * `GET endpoints/{name}/monitor` over a chosen window, against the reference of
 * the version the endpoint serves. One row per feature in the report's order
 * (statistic, value, threshold, drifted, a small chart of the reference's and
 * the window's shares per bin), then the predictions, data quality, and the
 * performance and comparison of deployments when the server has them.
 *
 * Nothing is decided here: drifted, flagged and "decided" are the server's words.
 */
import * as React from 'react';

import type { IColumnDrift, IEndpointMonitorReport } from '../../api';
import { absoluteTime } from '../../format';
import { ErrorRetry, Picker, TableHead } from '../shared';
import { EndpointsModel, IMonitorState, MONITOR_WINDOWS, MonitorWindow } from './model';

const WINDOW_LABELS: Record<MonitorWindow, string> = { '1h': 'last hour', '1d': 'last day', '7d': 'last 7 days' };

export function MonitorReport(props: { endpoints: EndpointsModel; endpoint: string; monitor: IMonitorState }): React.ReactElement {
  const { endpoints, endpoint, monitor } = props;
  const report = monitor.data;
  return (
    <div className="jp-ModelHub-monitorReport" data-state={monitor.state}>
      <div className="jp-ModelHub-row">
        <Picker
          label="Window"
          className="jp-ModelHub-monitorWindow"
          value={monitor.window}
          choices={MONITOR_WINDOWS}
          labels={WINDOW_LABELS}
          onChange={window => void endpoints.loadMonitor(endpoint, window)}
        />
        <button
          type="button"
          className="jp-ModelHub-monitorRefresh jp-Button jp-mod-styled"
          aria-label={`Refresh the monitoring of ${endpoint}`}
          disabled={monitor.state === 'loading'}
          onClick={() => {
            // the collection counts above are read again too, so both tell of the same traffic
            void endpoints.reload();
            void endpoints.loadMonitor(endpoint, monitor.window);
          }}
        >
          Refresh
        </button>
      </div>
      {monitor.state === 'loading' && (
        <p className="jp-ModelHub-loading" role="status">
          Comparing the {WINDOW_LABELS[monitor.window]} of traffic with the reference…
        </p>
      )}
      {monitor.state === 'empty' && (
        <p className="jp-ModelHub-note jp-ModelHub-monitorEmpty" role="status">
          Nothing to monitor: {monitor.error}
        </p>
      )}
      {monitor.state === 'unavailable' && (
        <p className="jp-ModelHub-note jp-ModelHub-monitorUnavailable" role="status">
          {monitor.error}
        </p>
      )}
      {monitor.state === 'error' && monitor.error && (
        <ErrorRetry
          message={monitor.error}
          label={`Retry the monitoring of ${endpoint}`}
          onRetry={() => void endpoints.loadMonitor(endpoint, monitor.window)}
        />
      )}
      {monitor.state === 'ready' && report && <Report report={report} />}
    </div>
  );
}

function Report(props: { report: IEndpointMonitorReport }): React.ReactElement {
  const { report } = props;
  const skipped = Object.entries(report.skipped ?? {}).filter(([, n]) => n > 0);
  return (
    <>
      <p className="jp-ModelHub-detailMeta jp-ModelHub-monitorSummary">
        {report.rows} rows from {report.requests} answered requests of {report.deployment} ({report.version}),{' '}
        {absoluteTime(report.since)} to {absoluteTime(report.until)}, against {report.against} ({report.reference_rows}{' '}
        reference rows).
        {skipped.length > 0 && ` Left out: ${skipped.map(([why, n]) => `${n} ${why}`).join(', ')}.`}
      </p>
      <p className={report.drifted.length ? 'jp-ModelHub-monitorVerdict jp-mod-drifted' : 'jp-ModelHub-monitorVerdict'}>
        {report.drifted.length
          ? `Drifted: ${report.drifted.join(', ')}.`
          : `No feature drifted (of ${report.features.length}).`}
      </p>
      <p className="jp-ModelHub-note jp-ModelHub-shareLegend">
        Charts: share of rows per bin, <span className="jp-ModelHub-swatch jp-ModelHub-shareReference" /> reference,{' '}
        <span className="jp-ModelHub-swatch jp-ModelHub-shareCurrent" /> this window.
      </p>
      <DriftTable label="Drift per feature" columns={report.features} />
      <h3>Predictions</h3>
      {report.predictions.columns?.length ? (
        <DriftTable label="Drift of the predictions" columns={report.predictions.columns} />
      ) : (
        <p className="jp-ModelHub-note">{report.predictions.note || 'No prediction columns to compare.'}</p>
      )}
      <Quality report={report} />
      {report.performance && <Performance report={report} />}
      {report.comparison && <Comparison report={report} />}
      {(report.notes ?? []).map(note => (
        <p key={note} className="jp-ModelHub-note jp-ModelHub-monitorNote">
          {note}
        </p>
      ))}
    </>
  );
}

function DriftTable(props: { label: string; columns: IColumnDrift[] }): React.ReactElement {
  return (
    <table className="jp-ModelHub-table jp-ModelHub-driftTable" aria-label={props.label}>
      <TableHead columns={['feature', 'statistic', 'value', 'threshold', 'drift', 'reference vs current']} />
      <tbody>
        {props.columns.map(c => (
          <tr key={c.name} data-feature={c.name} data-drifted={c.drifted ? 'true' : 'false'}>
            <td>{c.name}</td>
            <td>{c.statistic}</td>
            <td>{c.value === null ? '—' : figure(c.value)}</td>
            <td>{figure(c.threshold)}</td>
            <td>
              {c.drifted ? (
                <span className="jp-ModelHub-driftBadge jp-mod-drifted">drifted</span>
              ) : (
                <span className="jp-ModelHub-driftBadge">stable</span>
              )}
              {c.note && <div className="jp-ModelHub-reason">{c.note}</div>}
            </td>
            <td>
              <ShareChart column={c} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

const BAR = 5;
const GAP = 3;
const HEIGHT = 28;

/** Reference (muted) and current (accent) share per bin, side by side; the bins are in the title. */
function ShareChart(props: { column: IColumnDrift }): React.ReactElement | null {
  const { column } = props;
  const reference = column.reference ?? [];
  const current = column.current ?? [];
  const bins = Math.max(reference.length, current.length);
  if (!bins) {
    return null;
  }
  const top = Math.max(...reference, ...current, 1e-9);
  const width = bins * (2 * BAR + GAP);
  const height = (share: number | undefined) => ((share ?? 0) / top) * HEIGHT;
  const title = (column.bins ?? [])
    .map((bin, i) => `${bin}: ${percent(reference[i])} → ${percent(current[i])}`)
    .join('\n');
  return (
    <svg
      className="jp-ModelHub-shareChart"
      width={width}
      height={HEIGHT}
      viewBox={`0 0 ${width} ${HEIGHT}`}
      role="img"
      aria-label={`Shares per bin of ${column.name}: reference and current`}
    >
      <title>{title || `Shares per bin of ${column.name}`}</title>
      {Array.from({ length: bins }, (_, i) => {
        const x = i * (2 * BAR + GAP);
        return (
          <g key={i}>
            <rect className="jp-ModelHub-shareReference" x={x} y={HEIGHT - height(reference[i])} width={BAR} height={height(reference[i])} />
            <rect className="jp-ModelHub-shareCurrent" x={x + BAR} y={HEIGHT - height(current[i])} width={BAR} height={height(current[i])} />
          </g>
        );
      })}
    </svg>
  );
}

function Quality(props: { report: IEndpointMonitorReport }): React.ReactElement {
  const quality = props.report.quality;
  const flagged = quality.features.filter(f => f.flagged);
  return (
    <>
      <h3>Data quality</h3>
      {flagged.length === 0 ? (
        <p className="jp-ModelHub-note">No quality issue in {quality.rows} rows.</p>
      ) : (
        <table className="jp-ModelHub-table jp-ModelHub-qualityTable" aria-label="Data quality issues">
          <TableHead columns={['feature', 'issues', 'nulls', 'outside the reference']} />
          <tbody>
            {flagged.map(f => (
              <tr key={f.name} data-feature={f.name}>
                <td>{f.name}</td>
                <td>{(f.issues ?? []).join('; ')}</td>
                <td>
                  {percent(f.null_rate)} (reference {percent(f.reference_null_rate)})
                </td>
                <td>
                  {f.below_reference} below, {f.above_reference} above
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}

function Performance(props: { report: IEndpointMonitorReport }): React.ReactElement | null {
  const performance = props.report.performance;
  if (!performance) {
    return null;
  }
  return (
    <>
      <h3>Performance</h3>
      <p className="jp-ModelHub-monitorPerformance">
        {performance.value === null
          ? performance.note || 'No labels came back yet.'
          : `${performance.metric} ${figure(performance.value)} over ${performance.labelled} labelled of ${performance.rows} rows` +
            (performance.rmse !== null ? ` (rmse ${figure(performance.rmse)})` : '') +
            '.'}
      </p>
    </>
  );
}

function Comparison(props: { report: IEndpointMonitorReport }): React.ReactElement | null {
  const comparison = props.report.comparison;
  if (!comparison) {
    return null;
  }
  const { difference, mirror } = comparison;
  return (
    <>
      <h3>Deployments compared</h3>
      <table className="jp-ModelHub-table jp-ModelHub-comparisonTable" aria-label="Deployments compared">
        <TableHead columns={['deployment', 'requests', 'share', 'failed', 'mirrored']} />
        <tbody>
          {comparison.deployments.map(d => (
            <tr key={d.deployment}>
              <td>{d.deployment}</td>
              <td>{d.requests}</td>
              <td>{percent(d.share)}</td>
              <td>{d.failed}</td>
              <td>{d.mirrored}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {difference && (
        <p className="jp-ModelHub-note">
          {difference.metric}: {difference.a} {figure(difference.a_value)} vs {difference.b} {figure(difference.b_value)},
          difference {figure(difference.difference)} (95% interval {figure(difference.low)} to {figure(difference.high)}
          ): {difference.decided ? 'they differ' : 'not decided yet'}
          {!difference.decided && difference.needed !== null ? `, about ${difference.needed} labelled rows each needed` : ''}.
        </p>
      )}
      {mirror && (
        <p className="jp-ModelHub-note">
          Mirror {mirror.deployment} agrees with {mirror.against} on{' '}
          {mirror.agreement === null ? 'no pairs yet' : `${percent(mirror.agreement)} of ${mirror.pairs} rows`}.
        </p>
      )}
      {comparison.note && <p className="jp-ModelHub-note">{comparison.note}</p>}
    </>
  );
}

function figure(value: number): string {
  return Math.abs(value) >= 100 ? value.toFixed(0) : Number(value.toPrecision(3)).toString();
}

function percent(share: number | undefined): string {
  return share === undefined ? '—' : `${(share * 100).toFixed(share < 0.1 && share > 0 ? 1 : 0)}%`;
}
