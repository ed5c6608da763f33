/** One environment version: ref, Python, base image, requirements; its lock on demand. */
import * as React from 'react';

import { RelativeTime } from '../shared';

import type { IEnvironment } from '../../api';

import { EnvironmentsModel } from './model';

export function EnvironmentItem(props: {
  environments: EnvironmentsModel;
  environment: IEnvironment;
}): React.ReactElement {
  const { environments, environment } = props;
  const open = environments.isOpen(environment.ref);
  return (
    <li className="jp-ModelHub-environment" data-environment={environment.ref}>
      <div className="jp-ModelHub-imageHeader">
        <span className="jp-ModelHub-environmentRef">{environment.ref}</span>
        <span>Python {environment.python}</span>
        <code className="jp-ModelHub-hash" title={environment.hash}>
          {environment.hash.slice(0, 12)}
        </code>
      </div>
      <div className="jp-ModelHub-versionMeta">
        <span title="Base image">{environment.base_image}</span>
        <RelativeTime iso={environment.created_time} />
        <button
          type="button"
          className="jp-ModelHub-link"
          aria-expanded={open}
          aria-label={`${open ? 'Hide' : 'Show'} the lock of ${environment.ref}`}
          onClick={() => environments.toggleOpen(environment.ref)}
        >
          {open ? 'hide lock' : `${environment.lock.length} locked packages`}
        </button>
      </div>
      <div className="jp-ModelHub-requirements" title="Requirements">
        {environment.requirements.join(', ') || 'no requirements'}
      </div>
      {open && (
        <pre className="jp-ModelHub-code" aria-label={`Lock of ${environment.ref}`}>
          {environment.lock.join('\n')}
        </pre>
      )}
    </li>
  );
}
