/**
 * What an operation made, as a link that shows it in the panel: the new
 * version in the model list, or the endpoint in the Endpoints section.
 */
import * as React from 'react';

import type { IOperation, OperationLink } from '../../api';
import { linkLabel } from '../../operations';

export function ResultLink(props: {
  operation: IOperation;
  onReveal: (link: OperationLink) => void;
}): React.ReactElement | null {
  const { operation, onReveal } = props;
  const link = operation.link;
  const label = linkLabel(operation);
  if (!link || !label) {
    return null;
  }
  const where =
    link.type === 'version' ? 'in the model list' : 'in the Endpoints section';
  return (
    <span className="jp-ModelHub-result">
      <span className="jp-ModelHub-resultLabel">
        {link.type === 'version' ? 'version' : 'endpoint'}
      </span>
      <button
        type="button"
        className="jp-ModelHub-resultLink"
        title={`Show ${label} ${where}`}
        onClick={() => onReveal(link)}
      >
        {label}
      </button>
    </span>
  );
}
