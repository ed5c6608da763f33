/**
 * A progress bar for an operation, with what it is doing now (or where it
 * waits in the queue). Indeterminate (no aria-valuenow) while the server does
 * not know the total.
 */
import * as React from 'react';

import type { IOperation } from '../../api';
import { progressView, queueLabel } from '../../operations';

export function ProgressBar(props: {
  operation: IOperation;
  label: string;
}): React.ReactElement {
  const view = progressView(props.operation);
  const queue = queueLabel(props.operation);
  const indeterminate = view.value === null || view.max === null;
  const percent =
    indeterminate || !view.max ? 0 : (100 * (view.value as number)) / view.max;
  // A queued operation's message only repeats that it is queued: say where instead.
  const text =
    queue || [view.message, view.amount].filter(Boolean).join(' \u00b7 ');
  return (
    <div className="jp-ModelHub-progress">
      <div
        className={
          'jp-ModelHub-progressTrack' +
          (indeterminate ? ' jp-mod-indeterminate' : '')
        }
        role="progressbar"
        aria-label={props.label}
        aria-valuemin={0}
        aria-valuemax={indeterminate ? undefined : (view.max as number)}
        aria-valuenow={indeterminate ? undefined : (view.value as number)}
        aria-valuetext={text || undefined}
      >
        <div
          className="jp-ModelHub-progressFill"
          style={indeterminate ? undefined : { width: `${percent}%` }}
        />
      </div>
      {text && (
        <div
          className={
            'jp-ModelHub-progressText' + (queue ? ' jp-ModelHub-queue' : '')
          }
        >
          {text}
        </div>
      )}
    </div>
  );
}
