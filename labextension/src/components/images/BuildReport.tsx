/** An image's build report as a table: each step, its stage, reused or rebuilt (and why), its layer's size. */
import * as React from 'react';

import type { IImage } from '../../api';
import { formatSize } from '../../format';
import { TableHead } from '../shared';

interface IStep {
  stage?: string;
  step?: number;
  instruction?: string;
  reused?: boolean;
  size?: number | null;
  why?: string;
}

export function BuildReport(props: { image: IImage }): React.ReactElement {
  const report = props.image.report as { steps?: IStep[]; seconds?: number; reused?: number; rebuilt?: number };
  const steps = report.steps ?? [];
  return (
    <div className="jp-ModelHub-buildReport">
      <p className="jp-ModelHub-note">
        Built in {report.seconds ?? '?'} s: {report.reused ?? 0} steps reused, {report.rebuilt ?? 0} layers rebuilt.
      </p>
      <table className="jp-ModelHub-table" aria-label={`Build report of ${props.image.tag}`}>
        <TableHead columns={['stage', 'step', 'cache', 'size']} />
        <tbody>
          {steps.map((step, i) => (
            <tr key={i} className={step.reused ? 'jp-mod-reused' : 'jp-mod-rebuilt'}>
              <td>{step.stage}</td>
              <td title={step.instruction}>
                <code>{step.instruction}</code>
              </td>
              <td title={step.why}>{step.reused ? 'reused' : step.why ? `rebuilt: ${step.why}` : 'rebuilt'}</td>
              <td>{typeof step.size === 'number' ? formatSize(step.size) : ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
