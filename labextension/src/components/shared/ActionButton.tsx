/**
 * A button for an action the server may refuse: disabled with the server's
 * reason when the version's `actions` say it is not allowed. The reason is
 * shown as text under the button (a tooltip alone is found by few, and never
 * by keyboard or touch), and is its accessible description.
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
    <span className="jp-ModelHub-actionWrap">
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
        <span id={id} className="jp-ModelHub-reasonText">
          {reason}
        </span>
      )}
    </span>
  );
}
