/** The Batch section: batch endpoints and the newest batch jobs. */
import * as React from 'react';

import { UseSignal } from '@jupyterlab/ui-components';

import { Section } from '../shared';
import { JobItem } from './JobItem';
import { BatchModel } from './model';

export const BatchSection = React.memo(function BatchSection(props: {
  batch: BatchModel;
}): React.ReactElement {
  const { batch } = props;
  return (
    <UseSignal signal={batch.changed}>
      {() => (
        <Section
          title="Batch"
          badge={batch.activeCount ? `${batch.activeCount} active` : batch.loaded ? `(${batch.jobs.length})` : undefined}
          className="jp-ModelHub-batch"
          expanded={batch.expanded}
          onToggle={() => batch.toggle()}
          error={batch.error}
          onRetry={() => void batch.reload()}
          loading={!batch.loaded}
          empty={
            batch.loaded && batch.jobs.length === 0 && batch.endpoints.length === 0 ? (
              <>
                No batch jobs. Score files from a notebook: <code>%batch MODEL data/*.csv</code>
              </>
            ) : undefined
          }
        >
          {batch.endpoints.length > 0 && (
            <ul className="jp-ModelHub-imageList" aria-label="Batch endpoints">
              {batch.endpoints.map(endpoint => (
                <li key={endpoint.name} className="jp-ModelHub-image" data-batch-endpoint={endpoint.name}>
                  <span className="jp-ModelHub-environmentRef">{endpoint.name}</span> v{endpoint.version}{' '}
                  <span className="jp-ModelHub-requirements">{endpoint.model}</span>
                </li>
              ))}
            </ul>
          )}
          <ul className="jp-ModelHub-imageList" aria-label="Batch jobs">
            {batch.jobs.map(job => (
              <JobItem key={job.id} batch={batch} job={job} />
            ))}
          </ul>
        </Section>
      )}
    </UseSignal>
  );
});
