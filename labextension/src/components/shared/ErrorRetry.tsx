/** A failure in the server's words, with a Retry button when one helps. */
import * as React from 'react';

export function ErrorRetry(props: {
  message: string;
  label: string;
  onRetry?: () => void;
  className?: string;
}): React.ReactElement {
  return (
    <div className={'jp-ModelHub-error ' + (props.className ?? '')} role="alert">
      <span className="jp-ModelHub-errorText">{props.message}</span>
      {props.onRetry && (
        <button
          type="button"
          className="jp-ModelHub-retry jp-Button jp-mod-styled"
          aria-label={props.label}
          onClick={props.onRetry}
        >
          Retry
        </button>
      )}
    </div>
  );
}
