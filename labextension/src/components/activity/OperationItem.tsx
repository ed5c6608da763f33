/**
 * One operation in the Activity section: what it is, its state, progress or
 * outcome, its log, and Cancel while it is active.
 */
import * as React from 'react';

import type { IOperation, OperationLink } from '../../api';
import { formatDuration } from '../../format';
import { RelativeTime } from '../shared';
import { failureMessage } from '../../operations';
import { CancelButton } from './CancelButton';
import { ActivityModel } from './model';
import { LogToggle, OperationLog } from './OperationLog';
import { ProgressBar } from './ProgressBar';
import { ResultLink } from './ResultLink';

export function OperationItem(props: {
  activity: ActivityModel;
  operation: IOperation;
  onReveal: (link: OperationLink) => void;
}): React.ReactElement {
  const { activity, operation, onReveal } = props;
  const cancelError = activity.cancelState(operation.id)?.error;
  const ended = !operation.active && operation.status !== 'succeeded';
  const time =
    operation.ended_time ?? operation.started_time ?? operation.created_time;
  const took =
    operation.started_time && operation.ended_time
      ? formatDuration(operation.started_time, operation.ended_time)
      : '';
  return (
    <li
      className="jp-ModelHub-operation"
      data-operation={operation.id}
      data-status={operation.status}
    >
      <div className="jp-ModelHub-operationHeader">
        <span className="jp-ModelHub-operationKind">{operation.kind}</span>
        <span className="jp-ModelHub-operationSubject" title={operation.subject}>
          {operation.subject}
        </span>
        <span
          className={
            'jp-ModelHub-operationStatus jp-ModelHub-state ' +
            `jp-mod-${operation.status}`
          }
        >
          {operation.status}
        </span>
      </div>
      {operation.active && (
        <ProgressBar
          operation={operation}
          label={`Progress of operation ${operation.id}`}
        />
      )}
      {ended && (
        <div className="jp-ModelHub-operationError">
          {failureMessage(operation)}
        </div>
      )}
      <div className="jp-ModelHub-operationActions">
        <ResultLink operation={operation} onReveal={onReveal} />
        <RelativeTime iso={time} className="jp-ModelHub-operationTime" prefix={took ? `${took} \u00b7 ` : ''} />
        <LogToggle activity={activity} operation={operation} />
        {operation.active && (
          <CancelButton activity={activity} operation={operation} />
        )}
      </div>
      {cancelError && (
        <div className="jp-ModelHub-error" role="alert">
          {cancelError}
        </div>
      )}
      <OperationLog activity={activity} operation={operation} />
    </li>
  );
}
