/**
 * The Activity section of the panel: operations running on the server and
 * the most recent ones. Re-rendered on its own model's signal only.
 */
import * as React from 'react';

import { UseSignal } from '@jupyterlab/ui-components';

import type { OperationLink } from '../../api';
import { Section } from '../shared';
import { ActivityModel } from './model';
import { OperationItem } from './OperationItem';

export const NO_OPERATIONS_MESSAGE =
  'Nothing running. Conversions and environment builds show here with their progress.';

export const ActivitySection = React.memo(function ActivitySection(props: {
  activity: ActivityModel;
  onReveal: (link: OperationLink) => void;
}): React.ReactElement {
  const { activity, onReveal } = props;
  return (
    <UseSignal signal={activity.changed}>
      {() => {
        const active = activity.activeCount;
        return (
          <Section
            title="Activity"
            badge={active > 0 ? `${active} active` : undefined}
            className="jp-ModelHub-activity"
            expanded={activity.expanded}
            onToggle={() => activity.toggle()}
            error={activity.error}
            onRetry={() => void activity.refresh()}
            loading={!activity.loaded}
            empty={activity.loaded && activity.operations.length === 0 ? NO_OPERATIONS_MESSAGE : undefined}
          >
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
          </Section>
        );
      }}
    </UseSignal>
  );
});
