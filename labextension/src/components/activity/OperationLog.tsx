/**
 * The button that opens an operation's log tail, and the tail itself (the
 * last LOG_TAIL lines, reloaded while the operation runs).
 */
import * as React from 'react';

import type { IOperation } from '../../api';
import { ActivityModel, LOG_TAIL } from './model';

export function LogToggle(props: {
  activity: ActivityModel;
  operation: IOperation;
}): React.ReactElement {
  const { activity, operation } = props;
  const open = activity.isLogOpen(operation.id);
  return (
    <button
      type="button"
      className="jp-ModelHub-logToggle"
      aria-expanded={open}
      aria-controls={logId(operation.id)}
      aria-label={`${open ? 'Hide' : 'Show'} the log of operation ${operation.id}`}
      onClick={() => activity.toggleLog(operation.id)}
    >
      <span className="jp-ModelHub-caret" aria-hidden="true">
        {open ? '\u25BE' : '\u25B8'}
      </span>
      Log
    </button>
  );
}

export function OperationLog(props: {
  activity: ActivityModel;
  operation: IOperation;
}): React.ReactElement | null {
  const { activity, operation } = props;
  const state = activity.log(operation.id);
  if (!state) {
    return null;
  }
  const empty = !state.loading && !state.error && !state.text;
  return (
    <div className="jp-ModelHub-log" id={logId(operation.id)}>
      {state.error && (
        <div className="jp-ModelHub-error" role="alert">
          {state.error}
        </div>
      )}
      {state.loading && !state.text && (
        <div className="jp-ModelHub-loading" role="status">
          Loading the log…
        </div>
      )}
      {empty && <div className="jp-ModelHub-note">The log is empty.</div>}
      {state.text && (
        <pre
          className="jp-ModelHub-logText"
          aria-label={`Last ${LOG_TAIL} lines of the log of operation ${operation.id}`}
          tabIndex={0}
        >
          {state.text}
        </pre>
      )}
    </div>
  );
}

function logId(id: number): string {
  return `jp-ModelHub-log-${id}`;
}
