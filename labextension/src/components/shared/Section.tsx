/**
 * The frame of every section of the panel: a heading button that folds it,
 * then its body with the section's error (and Retry), a loading line while
 * nothing has arrived yet, or what to do when it is empty.
 */
import * as React from 'react';

import { ErrorRetry } from './ErrorRetry';

export function Section(props: {
  /** "Endpoints": the region's name and the heading. */
  title: string;
  /** Shown after the title, e.g. "(3)" or "2 active". */
  badge?: string;
  className: string;
  expanded: boolean;
  onToggle: () => void;
  error?: string | null;
  onRetry?: () => void;
  /** True until the first answer came. */
  loading?: boolean;
  /** When set, shown instead of the children (nothing to list). */
  empty?: React.ReactNode;
  children?: React.ReactNode;
}): React.ReactElement {
  const id = `jp-ModelHub-section-${props.title.replace(/\W+/g, '')}`;
  return (
    <section className={props.className} aria-label={props.title}>
      <button
        type="button"
        className="jp-ModelHub-sectionToggle"
        aria-expanded={props.expanded}
        aria-controls={id}
        onClick={props.onToggle}
      >
        <span className="jp-ModelHub-caret" aria-hidden="true">
          {props.expanded ? '\u25BE' : '\u25B8'}
        </span>
        <span className="jp-ModelHub-sectionTitle">{props.title}</span>
        {props.badge && <span className="jp-ModelHub-sectionBadge">{props.badge}</span>}
      </button>
      {props.expanded && (
        <div id={id} className="jp-ModelHub-sectionBody">
          {props.error && (
            <ErrorRetry
              message={props.error}
              label={`Retry loading ${props.title.toLowerCase()}`}
              onRetry={props.onRetry}
            />
          )}
          {props.loading && !props.error && (
            <div className="jp-ModelHub-loading" role="status">
              Loading {props.title.toLowerCase()}…
            </div>
          )}
          {!props.loading && props.empty ? (
            <div className="jp-ModelHub-empty" role="status">
              {props.empty}
            </div>
          ) : (
            props.children
          )}
        </div>
      )}
    </section>
  );
}
