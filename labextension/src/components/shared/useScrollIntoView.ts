import * as React from 'react';

/**
 * A ref for an element to scroll into view when it becomes selected, and
 * again each time the same selection is asked for anew (`selection` changes).
 */
export function useScrollIntoView<T extends HTMLElement>(
  selected: boolean,
  selection: unknown
): React.RefObject<T> {
  const node = React.useRef<T>(null);
  React.useEffect(() => {
    if (selected) {
      node.current?.scrollIntoView({ block: 'nearest', behavior: 'smooth' });
    }
  }, [selected, selection]);
  return node;
}
