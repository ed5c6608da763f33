/** A state ("healthy", "failed", "running") in its theme colour; `label` when the words differ. */
import * as React from 'react';

import { cssSafe } from '../../format';

export function StateBadge(props: { state: string; className: string; label?: string }): React.ReactElement {
  const state = props.state || 'unknown';
  return (
    <span className={`${props.className} jp-ModelHub-state jp-mod-${cssSafe(state)}`}>{props.label ?? state}</span>
  );
}
