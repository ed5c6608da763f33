/** The Environments section: locked environments that deployments and images run in. */
import * as React from 'react';

import { UseSignal } from '@jupyterlab/ui-components';

import { Section } from '../shared';
import { EnvironmentItem } from './EnvironmentItem';
import { EnvironmentsModel } from './model';

export const EnvironmentsSection = React.memo(function EnvironmentsSection(props: {
  environments: EnvironmentsModel;
}): React.ReactElement {
  const { environments } = props;
  return (
    <UseSignal signal={environments.changed}>
      {() => (
        <Section
          title="Environments"
          badge={environments.loaded ? `(${environments.environments.length})` : undefined}
          className="jp-ModelHub-environments"
          expanded={environments.expanded}
          onToggle={() => environments.toggle()}
          error={environments.error}
          onRetry={() => void environments.reload()}
          loading={!environments.loaded}
          empty={
            environments.loaded && environments.environments.length === 0 ? (
              <>
                No environments. Make one from a notebook: <code>%env create NAME --requirements requirements.txt</code>
              </>
            ) : undefined
          }
        >
          <ul className="jp-ModelHub-environmentList" aria-label="Environments">
            {environments.environments.map(environment => (
              <EnvironmentItem key={environment.ref} environments={environments} environment={environment} />
            ))}
          </ul>
        </Section>
      )}
    </UseSignal>
  );
});
