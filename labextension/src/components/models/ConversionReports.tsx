/**
 * A converted version's reports as the notebook renders them
 * (jupyter_modelhub/display/conversion.py): the equivalence verdict and its
 * table per output, the speed table (original runtime against ONNX Runtime,
 * with the speed-up) and its bar chart, and what the conversion made.
 */
import * as React from 'react';

import { cellText, formatMs, formatSize } from '../../format';
import { Cell, TableHead } from '../shared';
import { equivalenceView, speedView } from './reports';
import { ReportTable } from './ReportTable';

export function EquivalenceReport(props: { ref_: string; report: unknown; conversion?: unknown }): React.ReactElement {
  const view = equivalenceView(props.report, props.conversion);
  if (!view) {
    return <ReportTable label={`equivalence report of ${props.ref_}`} report={props.report} />;
  }
  return (
    <div className="jp-ModelHub-equivalence">
      <p className="jp-ModelHub-verdict">
        Against {view.from}:{' '}
        <strong className={view.passed ? 'jp-mod-passed' : 'jp-mod-failed'}>
          {view.passed ? 'equivalent' : 'not equivalent (forced)'}
        </strong>{' '}
        {view.summary}
      </p>
      <table className="jp-ModelHub-table" aria-label={`equivalence report of ${props.ref_}`}>
        <TableHead columns={['output', 'kind', 'agreement / max diff', 'failing rows', 'within tolerance']} />
        <tbody>
          {view.rows.map(row => (
            <tr key={row.output} className={row.within ? undefined : 'jp-mod-failed'}>
              <td>{row.output}</td>
              <td>{row.kind}</td>
              <Cell text={row.measure} />
              <Cell text={row.failingRows} />
              <td>{row.within ? 'yes' : <strong>no</strong>}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {view.rule && <p className="jp-ModelHub-note">Rule: {view.rule}</p>}
    </div>
  );
}

export function SpeedReport(props: { ref_: string; report: unknown }): React.ReactElement {
  const view = speedView(props.report);
  if (!view) {
    return <ReportTable label={`speed report of ${props.ref_}`} report={props.report} />;
  }
  return (
    <div className="jp-ModelHub-speed">
      <table className="jp-ModelHub-table" aria-label={`speed report of ${props.ref_}`}>
        <TableHead columns={['speed', view.original, view.onnx, 'speed-up']} />
        <tbody>
          {view.rows.map(row => (
            <tr key={row.measure}>
              <td>{row.measure}</td>
              <Cell text={row.original} />
              <Cell text={row.onnx} />
              <Cell text={row.speedup} />
            </tr>
          ))}
        </tbody>
      </table>
      <SpeedBars bars={view.bars} label={`Speed of ${props.ref_}: original against ONNX`} />
      {view.conditions && <p className="jp-ModelHub-note">{view.conditions}.</p>}
    </div>
  );
}

/** Original (grey) against ONNX (blue) per measure, bars scaled to the slowest; the notebook's chart. */
function SpeedBars(props: { bars: [string, number, number][]; label: string }): React.ReactElement | null {
  if (!props.bars.length) {
    return null;
  }
  const top = Math.max(...props.bars.flatMap(([, a, b]) => [a, b])) || 1;
  const lines = props.bars.flatMap(([label, original, onnx]) => [
    { label: `${label} original`, value: original, kind: 'original' },
    { label: `${label} onnx`, value: onnx, kind: 'onnx' }
  ]);
  return (
    <svg
      className="jp-ModelHub-speedBars"
      role="img"
      aria-label={props.label}
      width={440}
      height={22 * lines.length + 10}
      viewBox={`0 0 440 ${22 * lines.length + 10}`}
    >
      {lines.map((line, i) => {
        const y = 5 + 22 * i;
        const width = Math.max(1, (220 * line.value) / top);
        return (
          <g key={line.label} className={`jp-mod-${line.kind}`}>
            <text x={0} y={y + 14}>
              {line.label}
            </text>
            <rect x={140} y={y + 3} width={width} height={14} />
            <text x={144 + width} y={y + 14}>
              {formatMs(line.value)}
            </text>
          </g>
        );
      })}
    </svg>
  );
}

interface IConversionInfo {
  from?: string;
  converter?: string;
  opsets?: { [domain: string]: number };
  dtype?: string;
  size?: number;
  input_columns?: string[];
  onnx_inputs?: { name: string; type: string; shape: number[] }[];
  onnx_outputs?: { name: string; type: string; shape: number[] }[];
}

/** What the conversion made: from what, with which converter and opsets, the graph's inputs and outputs. */
export function ConversionFacts(props: { ref_: string; info: unknown }): React.ReactElement {
  const info = (props.info ?? {}) as IConversionInfo;
  const opsets = Object.entries(info.opsets ?? {})
    .map(([domain, version]) => `${domain || 'ai.onnx'} ${version}`)
    .join(', ');
  const graph = [
    ...(info.onnx_inputs ?? []).map(t => ({ side: 'input', ...t })),
    ...(info.onnx_outputs ?? []).map(t => ({ side: 'output', ...t }))
  ];
  return (
    <div className="jp-ModelHub-conversion">
      <dl className="jp-ModelHub-facts" aria-label={`Conversion of ${props.ref_}`}>
        <dt>Converted from</dt>
        <dd>{info.from ?? '?'}</dd>
        <dt>Converter</dt>
        <dd>{info.converter ?? '?'}</dd>
        {opsets && (
          <>
            <dt>Opsets</dt>
            <dd>{opsets}</dd>
          </>
        )}
        {info.dtype && (
          <>
            <dt>Computed in</dt>
            <dd>{info.dtype}</dd>
          </>
        )}
        {typeof info.size === 'number' && (
          <>
            <dt>ONNX graph</dt>
            <dd>{formatSize(info.size)}</dd>
          </>
        )}
        {info.input_columns?.length ? (
          <>
            <dt>Input columns</dt>
            <dd>{info.input_columns.join(', ')}</dd>
          </>
        ) : null}
      </dl>
      {graph.length > 0 && (
        <table className="jp-ModelHub-table" aria-label={`ONNX graph of ${props.ref_}`}>
          <TableHead columns={['side', 'name', 'type', 'shape']} />
          <tbody>
            {graph.map(t => (
              <tr key={`${t.side}:${t.name}`}>
                <td>{t.side}</td>
                <td>{t.name}</td>
                <td>{t.type}</td>
                <td>[{(t.shape ?? []).map(d => (d === -1 ? 'N' : cellText(d))).join(', ')}]</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
