/** What an action started here on a version is doing (its operation's progress), or how it ended. */
import * as React from 'react';

import { ProgressBar } from '../activity';
import { ModelsModel } from './model';

/** What an action is called while it runs: "the conversion of churn:1". */
const NOUNS: { [action: string]: string } = {
  convert: 'conversion',
  deploy: 'deployment',
  package: 'packaging'
};

export function ActionOutcome(props: { models: ModelsModel; ref_: string }): React.ReactElement | null {
  const { models } = props;
  const ref = props.ref_;
  const state = models.actionState(ref);
  if (!state) {
    return null;
  }
  if (state.busy) {
    return state.operation ? (
      <div className="jp-ModelHub-actionProgress">
        <ProgressBar operation={state.operation} label={`Progress of the ${NOUNS[state.action] ?? state.action} of ${ref}`} />
      </div>
    ) : (
      <div className="jp-ModelHub-actionProgress" role="status">
        {state.action}…
      </div>
    );
  }
  if (!state.message) {
    return null;
  }
  return (
    <div
      className={
        'jp-ModelHub-actionResult ' + (state.error ? 'jp-ModelHub-error' : 'jp-ModelHub-success')
      }
      data-action={state.action}
      role={state.error ? 'alert' : 'status'}
    >
      <span className="jp-ModelHub-actionText">{state.message}</span>
      <button
        type="button"
        className="jp-ModelHub-dismiss"
        aria-label={`Dismiss the message about ${ref}`}
        title="Dismiss"
        onClick={() => models.dismiss(ref)}
      >
        ×
      </button>
    </div>
  );
}
