/**
 * "Traffic over time" on an endpoint's page (issue 23): per deployment, a
 * chart of requests and errors per second and one of p50/p95/p99 latency,
 * over the range picked (1h, 6h, 24h, 7d), from what the server recorded, so
 * the charts show the traffic before the page was opened and after a restart.
 *
 * Plain SVG drawn at the width it is given (measured, so its 10 px labels
 * stay 10 px in a 300 px page and in a wide one), coloured with JupyterLab's
 * theme variables (light and dark).
 */
import * as React from 'react';

import { UseSignal } from '@jupyterlab/ui-components';

import type { IModelHubClient, ITrafficHistory, ITrafficPoint } from '../../api';
import {
  axisNumber,
  HISTORY_RANGES,
  HistoryRange,
  IChartPoint,
  linePath,
  niceMax,
  RANGE_SECONDS,
  timeTicks
} from '../../metrics';
import { ErrorRetry, Picker } from '../shared';
import { TrafficHistoryModel } from './history';

const RANGE_LABELS: Record<HistoryRange, string> = {
  '1h': 'last hour',
  '6h': 'last 6 hours',
  '24h': 'last 24 hours',
  '7d': 'last 7 days'
};

/** The chart's size in px before it is measured, and its height; the plot is inside the margins left for the axes. */
const WIDTH = 320;
const HEIGHT = 140;
const MARGIN = { left: 40, right: 8, top: 8, bottom: 22 };

interface ISeries {
  name: string;
  label: string;
  value: (point: ITrafficPoint, step: number) => number | null;
}

const TRAFFIC: ISeries[] = [
  { name: 'requests', label: 'requests/s', value: (p, step) => p.requests / step },
  { name: 'errors', label: 'errors/s', value: (p, step) => p.errors / step }
];
const LATENCY: ISeries[] = [
  { name: 'p50', label: 'p50', value: p => p.p50_ms ?? null },
  { name: 'p95', label: 'p95', value: p => p.p95_ms ?? null },
  { name: 'p99', label: 'p99', value: p => p.p99_ms ?? null }
];

export function TrafficCharts(props: {
  client: Pick<IModelHubClient, 'endpointMetricsHistory'>;
  endpoint: string;
}): React.ReactElement {
  const { client, endpoint } = props;
  const [model, setModel] = React.useState<TrafficHistoryModel | null>(null);
  React.useEffect(() => {
    const created = new TrafficHistoryModel(client, endpoint);
    setModel(created);
    return () => created.dispose();
  }, [client, endpoint]);
  return (
    <section className="jp-ModelHub-detailSection jp-ModelHub-trafficCharts" aria-label="Traffic over time">
      <h2>Traffic over time</h2>
      {model && <UseSignal signal={model.changed}>{() => <Charts model={model} />}</UseSignal>}
    </section>
  );
}

function Charts(props: { model: TrafficHistoryModel }): React.ReactElement {
  const { model } = props;
  const data = model.data;
  const deployments = data ? Object.entries(data.deployments).filter(([, points]) => points.length > 0) : [];
  // flat lines at zero tell nothing: the charts start with the first request in the range
  const requests = deployments.some(([, points]) => points.some(p => p.requests > 0));
  return (
    <>
      <div className="jp-ModelHub-row">
        <Picker
          label="Range"
          className="jp-ModelHub-historyRange"
          value={model.range}
          choices={HISTORY_RANGES}
          labels={RANGE_LABELS}
          onChange={range => model.setRange(range)}
        />
        {data && (
          <span className="jp-ModelHub-note">
            one point per {stepText(data.step_s)}; read every {Number(data.interval_s.toPrecision(3))} s by the server
          </span>
        )}
      </div>
      {model.error && <ErrorRetry message={model.error} label="Retry reading the traffic over time" onRetry={() => void model.load()} />}
      {!data ? (
        !model.error && (
          <p className="jp-ModelHub-loading" role="status">
            Loading the {RANGE_LABELS[model.range]}…
          </p>
        )
      ) : !requests ? (
        <p className="jp-ModelHub-note jp-ModelHub-chartsEmpty" role="status">
          <span className="jp-ModelHub-chartsEmptyTitle">No traffic recorded yet</span>: the requests to {model.endpoint} in the{' '}
          {RANGE_LABELS[model.range]} show here, per deployment.
        </p>
      ) : (
        deployments.map(([deployment, points]) => (
          <div key={deployment} className="jp-ModelHub-chartGroup" data-deployment={deployment}>
            <h3>{deployment}</h3>
            <div className="jp-ModelHub-charts">
              <Chart history={data} range={model.range} deployment={deployment} points={points} series={TRAFFIC} title="Requests" unit="per s" />
              <Chart history={data} range={model.range} deployment={deployment} points={points} series={LATENCY} title="Latency" unit="ms" />
            </div>
          </div>
        ))
      )}
    </>
  );
}

function Chart(props: {
  history: ITrafficHistory;
  range: HistoryRange;
  deployment: string;
  points: ITrafficPoint[];
  series: ISeries[];
  title: string;
  unit: string;
}): React.ReactElement {
  const { history, range, deployment, points, series, title, unit } = props;
  const box = React.useRef<HTMLElement>(null);
  const width = useWidth(box);
  const step = history.step_s;
  const end = Date.now();
  const start = end - RANGE_SECONDS[range] * 1000;
  const values = series.map(s => points.map(p => ({ x: Date.parse(p.time) + (step * 1000) / 2, y: s.value(p, step) })));
  const top = niceMax(Math.max(0, ...values.flat().map(v => v.y ?? 0)));
  const plotWidth = width - MARGIN.left - MARGIN.right;
  const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom;
  const px = (x: number) => MARGIN.left + ((x - start) / (end - start)) * plotWidth;
  const py = (y: number) => MARGIN.top + plotHeight - (y / top) * plotHeight;
  const gap = px(start + step * 1500) - px(start); // 1.5 steps: a step without a point breaks the line
  const name = `${title} of ${deployment}, ${RANGE_LABELS[range]}`;
  return (
    <figure ref={box} className="jp-ModelHub-chart" data-chart={title.toLowerCase()}>
      <svg width={width} height={HEIGHT} viewBox={`0 0 ${width} ${HEIGHT}`} role="img" aria-label={name}>
        <title>{name}</title>
        {[0, 0.5, 1].map(f => (
          <g key={f} className="jp-ModelHub-chartGrid">
            <line x1={MARGIN.left} x2={width - MARGIN.right} y1={py(top * f)} y2={py(top * f)} />
            <text x={MARGIN.left - 4} y={py(top * f) + 3} textAnchor="end">
              {axisNumber(top * f)}
            </text>
          </g>
        ))}
        <text className="jp-ModelHub-chartUnit" x={4} y={MARGIN.top + plotHeight / 2} transform={`rotate(-90 8 ${MARGIN.top + plotHeight / 2})`} textAnchor="middle">
          {unit}
        </text>
        {timeTicks(start, end, 4, range).map((tick, i, all) => (
          <text
            key={i}
            className="jp-ModelHub-chartTime"
            x={px(tick.x)}
            y={HEIGHT - 6}
            textAnchor={i === 0 ? 'start' : i === all.length - 1 ? 'end' : 'middle'}
          >
            {tick.label}
          </text>
        ))}
        {series.map((s, i) => {
          const drawn = linePath(
            values[i].map((v: IChartPoint) => ({ x: px(v.x), y: v.y === null ? null : py(v.y) })),
            gap
          );
          return (
            <g key={s.name} className="jp-ModelHub-chartSeries" data-series={s.name}>
              <path className="jp-ModelHub-chartLine" d={drawn.d} />
              {drawn.dots.map(([x, y], j) => (
                <circle key={j} cx={x} cy={y} r={2} />
              ))}
            </g>
          );
        })}
      </svg>
      <figcaption className="jp-ModelHub-chartLegend">
        <span className="jp-ModelHub-chartTitle">{title}</span>
        {series.map(s => (
          <span key={s.name} className="jp-ModelHub-chartKey" data-series={s.name}>
            <span className="jp-ModelHub-chartSwatch" aria-hidden="true" />
            {s.label}
          </span>
        ))}
      </figcaption>
    </figure>
  );
}

/** The width of the element in `ref` (px), followed as the page is resized. */
function useWidth(ref: React.RefObject<HTMLElement>): number {
  const [width, setWidth] = React.useState(WIDTH);
  React.useLayoutEffect(() => {
    const node = ref.current;
    if (!node) {
      return;
    }
    const measure = () => setWidth(Math.max(160, Math.floor(node.getBoundingClientRect().width)));
    measure();
    const observer = new ResizeObserver(measure);
    observer.observe(node);
    return () => observer.disconnect();
  }, [ref]);
  return width;
}

function stepText(seconds: number): string {
  return seconds < 120 ? `${seconds} s` : seconds < 7200 ? `${Math.round(seconds / 60)} min` : `${Math.round(seconds / 3600)} h`;
}
