/** One model in the list: name (wrapped, in full on hover), latest version, flavor, chips; its versions when open. */
import * as React from 'react';

import type { IModelSummary } from '../../api';
import { aliasLabels, cssSafe, versionCount } from '../../format';
import { Chips } from '../shared';
import { ModelsModel } from './model';
import { VersionList } from './VersionList';

export function ModelItem(props: {
  models: ModelsModel;
  summary: IModelSummary;
}): React.ReactElement {
  const { models, summary } = props;
  const expanded = models.isExpanded(summary.name);
  const versionsId = `jp-ModelHub-versions-${cssSafe(summary.name)}`;
  const count = versionCount(summary.version_count);
  return (
    <li
      className={'jp-ModelHub-model' + (expanded ? ' jp-mod-expanded' : '')}
      data-model={summary.name}
    >
      <button
        type="button"
        className="jp-ModelHub-modelButton"
        aria-expanded={expanded}
        aria-controls={versionsId}
        aria-label={`${summary.name}, latest version ${summary.latest_version}, ${count}. ${expanded ? 'Hide' : 'Show'} versions`}
        title={summary.description ? `${summary.name}: ${summary.description}` : summary.name}
        onClick={() => models.toggleModel(summary.name)}
      >
        <span className="jp-ModelHub-caret" aria-hidden="true">
          {expanded ? '\u25BE' : '\u25B8'}
        </span>
        <span className="jp-ModelHub-modelName">{summary.name}</span>
        <span className="jp-ModelHub-latest">v{summary.latest_version}</span>
        <span className="jp-ModelHub-flavorBadge">{summary.flavor}</span>
        <span className="jp-ModelHub-versionCount">{count}</span>
      </button>
      <Chips tags={summary.tags} aliases={aliasLabels(summary.aliases)} />
      {expanded && <VersionList models={models} name={summary.name} id={versionsId} />}
    </li>
  );
}
