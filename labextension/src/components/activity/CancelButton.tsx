/**
 * Cancel an active operation. The server decides: a refusal is shown by the
 * operation's row, since the button goes once the operation has ended.
 */
import * as React from 'react';

import type { IOperation } from '../../api';
import { ActivityModel } from './model';

export function CancelButton(props: {
  activity: ActivityModel;
  operation: IOperation;
}): React.ReactElement {
  const { activity, operation } = props;
  const busy = activity.cancelState(operation.id)?.busy ?? false;
  return (
    <button
      type="button"
      className="jp-ModelHub-cancel"
      aria-label={`Cancel operation ${operation.id}`}
      title={`Stop ${operation.kind} ${operation.subject} and everything it started`}
      aria-busy={busy ? true : undefined}
      disabled={busy}
      onClick={() => void activity.cancel(operation.id)}
    >
      {busy ? 'Cancelling…' : 'Cancel'}
    </button>
  );
}
