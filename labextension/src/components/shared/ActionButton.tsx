/**
 * A button for an action the server may refuse: disabled with the server's
 * reason (as its tooltip and its accessible description) when the version's
 * `actions` say it is not allowed.
 */
import * as React from 'react';

import type { IAction } from '../../api';

export function ActionButton(props: {
  action: IAction | undefined;
  label: string;
  /** The accessible name, e.g. "Convert churn:1 to ONNX". */
  name: string;
  busy?: boolean;
  className?: string;
  onClick: () => void;
}): React.ReactElement {
  const refused = props.action !== undefined && !props.action.allowed;
  const reason = refused ? props.action?.reason ?? '' : '';
  const id = React.useId();
  return (
    <>
      <button
        type="button"
        className={'jp-ModelHub-action jp-Button jp-mod-styled ' + (props.className ?? '')}
        aria-label={props.name}
        aria-describedby={refused ? id : undefined}
        aria-busy={props.busy ? true : undefined}
        title={refused ? `Not possible: ${reason}` : props.name}
        disabled={refused || props.busy}
        data-reason={refused ? reason : undefined}
        onClick={props.onClick}
      >
        {props.label}
      </button>
      {refused && (
        <span id={id} className="jp-ModelHub-reasonHidden">
          {reason}
        </span>
      )}
    </>
  );
}
