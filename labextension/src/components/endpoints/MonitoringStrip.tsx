/** Requests, errors and p50/p99 latency of one deployment over the last minutes of reads. */
import * as React from 'react';

import { latencyLabel, windowFigures } from '../../metrics';
import type { IWatchState } from './model';

export function MonitoringStrip(props: {
  state: IWatchState | undefined;
  deployment: string;
  /** The heading; "Monitoring" by default. */
  title?: string;
}): React.ReactElement {
  const { state, deployment } = props;
  const title = props.title ?? 'Monitoring';
  const figures = state ? windowFigures(state.samples, deployment) : null;
  const minutes = figures ? Math.max(1, Math.round(figures.seconds / 60)) : 0;
  const cells: [string, string][] = figures
    ? [
        ['requests', String(figures.requests)],
        ['errors', String(figures.errors)],
        ['p50', latencyLabel(figures.p50)],
        ['p99', latencyLabel(figures.p99)]
      ]
    : [];
  return (
    <section className="jp-ModelHub-detailSection" aria-label={title}>
      <h2>
        {title}
        {figures ? ` (last ${figures.seconds < 60 ? `${Math.round(figures.seconds)} s` : `${minutes} min`})` : ''}
      </h2>
      {state?.metricsError && (
        <div className="jp-ModelHub-error" role="alert">
          {state.metricsError}
        </div>
      )}
      {figures ? (
        <dl className="jp-ModelHub-strip" aria-label={`Monitoring of ${deployment}`}>
          {cells.map(([label, value]) => (
            <div key={label} className="jp-ModelHub-stripCell" data-figure={label}>
              <dt>{label}</dt>
              <dd>{value}</dd>
            </div>
          ))}
        </dl>
      ) : (
        <p className="jp-ModelHub-note" role="status">
          Reading the endpoint's counters…
        </p>
      )}
    </section>
  );
}
