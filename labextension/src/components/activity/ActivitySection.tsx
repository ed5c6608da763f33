/**
 * The Activity section of the panel: operations running on the server and
 * the most recent ones. Re-rendered on its own model's signal only.
 */
import * as React from 'react';

import { UseSignal } from '@jupyterlab/ui-components';

import type { OperationLink } from '../../api';
import { ActivityModel } from './model';
import { OperationItem } from './OperationItem';

export const NO_OPERATIONS_MESSAGE =
  'Nothing running. Conversions and environment builds show here with their progress.';

export const ActivitySection = React.memo(function ActivitySection(props: {
  activity: ActivityModel;
  onReveal: (link: OperationLink) => void;
}): React.ReactElement {
  const { activity, onReveal } = props;
  const bodyId = 'jp-ModelHub-activityBody';
  return (
    <UseSignal signal={activity.changed}>
      {() => {
        const expanded = activity.expanded;
        const active = activity.activeCount;
        return (
          <section className="jp-ModelHub-activity" aria-label="Activity">
            <button
              type="button"
              className="jp-ModelHub-sectionToggle"
              aria-expanded={expanded}
              aria-controls={bodyId}
              onClick={() => activity.toggle()}
            >
              <span className="jp-ModelHub-caret" aria-hidden="true">
                {expanded ? '\u25BE' : '\u25B8'}
              </span>
              <span className="jp-ModelHub-sectionTitle">Activity</span>
              {active > 0 && (
                <span className="jp-ModelHub-activeCount">{active} active</span>
              )}
            </button>
            {expanded && (
              <div id={bodyId} className="jp-ModelHub-activityBody">
                {activity.error && (
                  <div className="jp-ModelHub-error" role="alert">
                    <span className="jp-ModelHub-errorText">{activity.error}</span>
                    <button
                      type="button"
                      className="jp-ModelHub-retry jp-Button jp-mod-styled"
                      aria-label="Retry loading the activity"
                      onClick={() => void activity.refresh()}
                    >
                      Retry
                    </button>
                  </div>
                )}
                {!activity.loaded && !activity.error && (
                  <div className="jp-ModelHub-loading" role="status">
                    Loading activity…
                  </div>
                )}
                {activity.loaded && activity.operations.length === 0 && (
                  <div className="jp-ModelHub-empty" role="status">
                    {NO_OPERATIONS_MESSAGE}
                  </div>
                )}
                {activity.operations.length > 0 && (
                  <ul className="jp-ModelHub-operationList" aria-label="Operations">
                    {activity.operations.map(operation => (
                      <OperationItem
                        key={operation.id}
                        activity={activity}
                        operation={operation}
                        onReveal={onReveal}
                      />
                    ))}
                  </ul>
                )}
              </div>
            )}
          </section>
        );
      }}
    </UseSignal>
  );
});
