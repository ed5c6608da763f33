/**
 * One version in an open model: number (opens its detail view), flavor, time,
 * chips, whether it matched the filter, a box to pick it for comparing, and
 * Convert to ONNX for a scikit-learn version (disabled with the server's
 * reason once converted). Right-click for every action.
 */
import * as React from 'react';

import type { IVersion } from '../../api';
import { basename, formatSize } from '../../format';
import { useOpener } from '../../opener';
import { ActionButton, Chips, useScrollIntoView, RelativeTime } from '../shared';
import { ActionOutcome } from './ActionOutcome';
import { actionName, startAction } from './actions';
import { ModelsModel } from './model';

export function VersionItem(props: {
  models: ModelsModel;
  version: IVersion;
  /** Whether it matched the query's filter; null when the query picks no versions. */
  matched: boolean | null;
}): React.ReactElement {
  const { models, version, matched } = props;
  const opener = useOpener();
  const ref = version.ref;
  const busy = models.actionState(ref)?.busy;
  const selected = models.isSelected(version.name, version.version);
  const node = useScrollIntoView<HTMLLIElement>(selected, models.selection);
  const aliases = [...(version.aliases ?? [])].sort().map(alias => ({ alias, label: alias }));
  return (
    <li
      ref={node}
      className={
        'jp-ModelHub-version' +
        (version.archived ? ' jp-mod-archived' : '') +
        (selected ? ' jp-mod-selected' : '') +
        (matched === true ? ' jp-mod-matched' : matched === false ? ' jp-mod-unmatched' : '')
      }
      data-model={version.name}
      data-version={version.version}
      aria-current={selected ? true : undefined}
    >
      <div className="jp-ModelHub-versionHeader">
        <input
          type="checkbox"
          className="jp-ModelHub-pick"
          aria-label={`Pick ${ref} to compare`}
          checked={models.isPicked(version.name, version.version)}
          onChange={() => models.togglePick(version.name, version.version)}
        />
        <button
          type="button"
          className="jp-ModelHub-versionNumber jp-ModelHub-link"
          aria-label={`Details of ${ref}`}
          title={`Details of ${ref}`}
          onClick={() => opener.openVersion(version.name, version.version)}
        >
          v{version.version}
        </button>
        <span className="jp-ModelHub-flavorBadge">{version.flavor}</span>
        {matched === true && (
          <span className="jp-ModelHub-matchBadge" title="Matches the filter">
            match
          </span>
        )}
        {version.archived && <span className="jp-ModelHub-archived">archived</span>}
        <RelativeTime iso={version.created_time} />
      </div>
      <Chips tags={version.tags} aliases={aliases} />
      <div className="jp-ModelHub-versionMeta">
        {version.created_by && (
          <span className="jp-ModelHub-author" title={version.created_by}>
            by {version.created_by}
          </span>
        )}
        {version.size > 0 && <span>{formatSize(version.size)}</span>}
        {version.derived_from && <span>from {version.derived_from}</span>}
        {version.source_notebook && (
          <span title={version.source_notebook}>{basename(version.source_notebook)}</span>
        )}
      </div>
      {version.description && <div className="jp-ModelHub-description">{version.description}</div>}
      {version.flavor === 'sklearn' && (
        <div className="jp-ModelHub-versionActions">
          <ActionButton
            action={version.actions?.convert}
            className="jp-ModelHub-convert"
            label={busy && models.actionState(ref)?.action === 'convert' ? 'Converting…' : 'Convert to ONNX'}
            name={actionName('convert', ref)}
            busy={busy}
            onClick={() => void startAction(models, opener, version, 'convert')}
          />
        </div>
      )}
      <ActionOutcome models={models} ref_={ref} />
    </li>
  );
}
