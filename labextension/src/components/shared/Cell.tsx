/**
 * A data cell that right-aligns only numbers ("0.93", "1.9 KB", "45.2 µs",
 * "12.3x"): names, states and sentences stay left-aligned, as people read them.
 */
import * as React from 'react';

import { isNumeric } from '../../format';

export function Cell(props: {
  text: string;
  title?: string;
  className?: string;
  children?: React.ReactNode;
}): React.ReactElement {
  const classes = [props.className, isNumeric(props.text) ? 'jp-ModelHub-number' : ''].filter(Boolean).join(' ');
  return (
    <td className={classes || undefined} title={props.title}>
      {props.children ?? props.text}
    </td>
  );
}
