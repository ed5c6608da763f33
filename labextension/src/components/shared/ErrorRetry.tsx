/**
 * A failure in the server's words, with a Retry button when one helps, and a
 * Dismiss button: a banner the user has read goes away, and comes back only
 * when a new failure says something else.
 */
import * as React from 'react';

export function ErrorRetry(props: {
  message: string;
  label: string;
  onRetry?: () => void;
  className?: string;
}): React.ReactElement | null {
  const [dismissed, setDismissed] = React.useState<string | null>(null);
  if (dismissed === props.message) {
    return null;
  }
  return (
    <div className={'jp-ModelHub-error ' + (props.className ?? '')} role="alert">
      <span className="jp-ModelHub-errorText">{props.message}</span>
      {props.onRetry && (
        <button
          type="button"
          className="jp-ModelHub-retry jp-Button jp-mod-styled"
          aria-label={props.label}
          onClick={() => {
            setDismissed(null);
            props.onRetry?.();
          }}
        >
          Retry
        </button>
      )}
      <button
        type="button"
        className="jp-ModelHub-dismiss"
        aria-label={`Dismiss: ${props.message}`}
        title="Dismiss"
        onClick={() => setDismissed(props.message)}
      >
        ×
      </button>
    </div>
  );
}
