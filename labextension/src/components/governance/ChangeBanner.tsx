/** The outcome of a change tried from a governance view, where it was tried: the server's words, dismissible. */
import * as React from 'react';

import { GovernanceModel } from './model';

export function ChangeBanner(props: {
  governance: GovernanceModel;
  changeKey: string;
  /** What the message is about, for the Dismiss button's name. */
  about: string;
}): React.ReactElement | null {
  const change = props.governance.change(props.changeKey);
  if (!change || change.busy || !(change.error || change.message)) {
    return null;
  }
  return (
    <div
      className={'jp-ModelHub-changeOutcome ' + (change.error ? 'jp-ModelHub-error' : 'jp-ModelHub-success')}
      role={change.error ? 'alert' : 'status'}
      data-change={props.changeKey}
    >
      <span className="jp-ModelHub-actionText">{change.error ?? change.message}</span>
      <button
        type="button"
        className="jp-ModelHub-dismiss"
        aria-label={`Dismiss the message about the ${props.about}`}
        title="Dismiss"
        onClick={() => props.governance.dismiss(props.changeKey)}
      >
        ×
      </button>
    </div>
  );
}
