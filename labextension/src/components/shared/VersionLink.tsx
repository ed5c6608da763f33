/**
 * A version's reference (NAME:VERSION) as a link that opens its page: the one
 * way every page and list names a version, with the same label for a screen
 * reader ("Details of churn:3").
 */
import * as React from 'react';

import { useOpener } from '../../opener';

export function VersionLink(props: { reference: string; className?: string; children?: React.ReactNode }): React.ReactElement {
  const opener = useOpener();
  const { reference } = props;
  const at = reference.lastIndexOf(':');
  return (
    <button
      type="button"
      className={`jp-ModelHub-link${props.className ? ` ${props.className}` : ''}`}
      aria-label={`Details of ${reference}`}
      onClick={() => opener.openVersion(reference.slice(0, at), Number(reference.slice(at + 1)))}
    >
      {props.children ?? reference}
    </button>
  );
}
