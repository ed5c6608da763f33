/** A small button that copies a text and says so for a moment. */
import * as React from 'react';

import { Clipboard } from '@jupyterlab/apputils';
import { copyIcon } from '@jupyterlab/ui-components';

/** How long the button says "Copied" (ms). */
const COPIED_FEEDBACK = 1500;

export function CopyButton(props: {
  /** The text, or a function that fetches it (an endpoint's key). */
  text: string | (() => Promise<string>);
  label: string;
}): React.ReactElement {
  const [copied, setCopied] = React.useState(false);
  const timer = React.useRef<ReturnType<typeof setTimeout> | null>(null);
  React.useEffect(
    () => () => {
      if (timer.current !== null) {
        clearTimeout(timer.current);
      }
    },
    []
  );
  const copy = async () => {
    const text = typeof props.text === 'string' ? props.text : await props.text();
    Clipboard.copyToSystem(text);
    setCopied(true);
    if (timer.current !== null) {
      clearTimeout(timer.current);
    }
    timer.current = setTimeout(() => {
      timer.current = null;
      setCopied(false);
    }, COPIED_FEEDBACK);
  };
  return (
    <button
      type="button"
      className="jp-ModelHub-copy jp-Button jp-mod-minimal"
      aria-label={props.label}
      title={copied ? 'Copied' : props.label}
      onClick={() => void copy()}
    >
      {copied ? (
        <span className="jp-ModelHub-copied">Copied</span>
      ) : (
        <copyIcon.react tag="span" className="jp-ModelHub-icon" />
      )}
    </button>
  );
}
