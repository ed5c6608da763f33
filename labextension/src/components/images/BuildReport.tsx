/**
 * An image's build report as the notebook shows it (display/packaging.py):
 * each step, reused or rebuilt and why, its layer's size. In the sidebar
 * (`compact`) the instruction and cache state, why under them across the
 * table's width, a step's stage and size behind its "details"; on the image's
 * page every column.
 */
import * as React from 'react';

import type { IImage } from '../../api';
import { formatSize, plural } from '../../format';
import { Cell, TableHead } from '../shared';

export interface IStep {
  stage?: string;
  step?: number;
  instruction?: string;
  reused?: boolean;
  size?: number | null;
  why?: string;
}

export interface IReport {
  steps?: IStep[];
  seconds?: number;
  reused?: number;
  rebuilt?: number;
  size?: number;
  environment_image?: string;
}

/** "Built in 15.2 s: 9 steps reused, 2 layers rebuilt." */
export function buildSummary(report: IReport): string {
  const seconds = typeof report.seconds === 'number' ? `${report.seconds.toFixed(1)} s` : '? s';
  return `Built in ${seconds}: ${plural(report.reused ?? 0, 'step')} reused, ${plural(report.rebuilt ?? 0, 'layer')} rebuilt.`;
}

export function BuildReport(props: { image: IImage; compact?: boolean }): React.ReactElement {
  const report = props.image.report as IReport;
  const steps = report.steps ?? [];
  const [open, setOpen] = React.useState<Set<number>>(new Set());
  const label = `Build report of ${props.image.tag}`;
  const cache = (step: IStep) => (step.reused ? 'reused' : 'rebuilt');
  if (!props.compact) {
    return (
      <div className="jp-ModelHub-buildReport jp-mod-full">
        <p className="jp-ModelHub-note jp-ModelHub-buildSummary">{buildSummary(report)}</p>
        <table className="jp-ModelHub-table" aria-label={label}>
          <TableHead columns={['stage', 'step', 'instruction', 'cache', 'size', 'why']} />
          <tbody>
            {steps.map((step, i) => (
              <tr key={i} className={step.reused ? 'jp-mod-reused' : 'jp-mod-rebuilt'}>
                <td>{step.stage}</td>
                <Cell text={String(step.step ?? '')} />
                <td title={step.instruction}>
                  <code>{step.instruction}</code>
                </td>
                <td>{cache(step)}</td>
                <Cell text={typeof step.size === 'number' ? formatSize(step.size) : ''} />
                <td className="jp-ModelHub-why">{step.why ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    );
  }
  const toggle = (i: number) => {
    const next = new Set(open);
    if (!next.delete(i)) {
      next.add(i);
    }
    setOpen(next);
  };
  return (
    <div className="jp-ModelHub-buildReport jp-mod-compact">
      <p className="jp-ModelHub-note">{buildSummary(report)}</p>
      <table className="jp-ModelHub-table" aria-label={label}>
        <TableHead columns={['step', 'cache']} />
        {steps.map((step, i) => (
          <tbody key={i} className={step.reused ? 'jp-mod-reused' : 'jp-mod-rebuilt'}>
            <tr>
              <td title={step.instruction} className="jp-ModelHub-instruction">
                <code>{step.instruction}</code>
              </td>
              <td>
                {cache(step)}{' '}
                <button
                  type="button"
                  className="jp-ModelHub-link jp-ModelHub-rowDetails"
                  aria-expanded={open.has(i)}
                  aria-label={`Details of step ${step.step ?? i} (${step.stage ?? ''})`}
                  onClick={() => toggle(i)}
                >
                  {open.has(i) ? 'less' : 'details'}
                </button>
              </td>
            </tr>
            {step.why && (
              <tr className="jp-ModelHub-whyRow">
                <td colSpan={2} className="jp-ModelHub-why">
                  <span className="jp-ModelHub-whyLabel">why: </span>
                  {step.why}
                </td>
              </tr>
            )}
            {open.has(i) && (
              <tr className="jp-ModelHub-rowMore">
                <td colSpan={2}>
                  {step.stage} stage, step {step.step}
                  {typeof step.size === 'number' ? `, layer ${formatSize(step.size)}` : ', no layer'}
                </td>
              </tr>
            )}
          </tbody>
        ))}
      </table>
    </div>
  );
}
