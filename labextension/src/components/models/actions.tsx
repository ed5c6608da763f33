/**
 * The actions on a version, as the row, the detail view and the context menu
 * start them: ask what is needed (an endpoint name, an alias, a tag), confirm
 * what cannot be undone, then let the Models section do it on the server.
 * Whether an action is possible is the server's word (`version.actions`).
 */
import * as React from 'react';

import type { ActionName, IVersion } from '../../api';
import { IOpener } from '../../opener';
import { DeployForm } from '../deploy/DeployForm';
import { deployRequest } from '../deploy/plan';
import { AliasForm } from './AliasForm';
import { ConvertForm } from './ConvertForm';
import { ModelsModel } from './model';

/** Labels of the actions, in the order they are offered. */
export const ACTION_LABELS: { [name in ActionName]: string } = {
  deploy: 'Deploy…',
  convert: 'Convert to ONNX',
  package: 'Package',
  alias: 'Alias…',
  tag: 'Tag…',
  archive: 'Archive',
  restore: 'Restore',
  download: 'Download',
  delete: 'Delete…'
};

/** The accessible name of an action on `ref`: "Convert churn:1 to ONNX". */
export function actionName(action: ActionName, ref: string): string {
  switch (action) {
    case 'convert':
      return `Convert ${ref} to ONNX`;
    case 'deploy':
      return `Deploy ${ref}`;
    case 'package':
      return `Package ${ref} as an image`;
    case 'alias':
      return `Set an alias on ${ref}`;
    case 'tag':
      return `Tag ${ref}`;
    case 'archive':
      return `Archive ${ref}`;
    case 'restore':
      return `Restore ${ref}`;
    case 'download':
      return `Download the files of ${ref}`;
    case 'delete':
      return `Delete ${ref}`;
  }
}

/** Whether the server allows `action` on the version (unknown counts as allowed: the server decides). */
export function isAllowed(version: IVersion, action: ActionName): boolean {
  return version.actions?.[action]?.allowed ?? true;
}

/** Start `action` on the version, asking the user first where it needs to. */
export async function startAction(
  models: ModelsModel,
  opener: IOpener,
  version: IVersion,
  action: ActionName
): Promise<void> {
  const ref = version.ref;
  switch (action) {
    case 'convert': {
      const versions = models.versions(version.name)?.versions ?? [version];
      await opener.showForm(`Convert ${ref} to ONNX`, handle => (
        <ConvertForm
          version={version}
          versions={versions}
          rules={models.rules}
          handle={handle}
          convert={request => models.startConvert(version, request)}
        />
      ));
      return;
    }
    case 'package':
      return models.package(version);
    case 'deploy': {
      const versions = models.versions(version.name)?.versions ?? [version];
      await opener.showForm(`Deploy ${version.name}`, handle => (
        <DeployForm
          version={version}
          versions={versions.filter(v => !v.archived || v.ref === version.ref)}
          endpoints={models.endpoints()}
          rules={models.rules}
          handle={handle}
          deploy={(endpoint, form, existing) => models.deploy(endpoint, deployRequest(form, existing))}
        />
      ));
      return;
    }
    case 'alias': {
      await opener.showForm(`Alias for ${ref}`, handle => (
        <AliasForm version={version} rules={models.rules} handle={handle} move={alias => models.moveAlias(version, alias)} />
      ));
      return;
    }
    case 'tag': {
      const tag = await opener.ask(`Tag ${ref}`, 'Tag as NAME=VALUE (NAME= removes it)', '');
      if (!tag) {
        return;
      }
      // "team = growth " is team=growth: spaces around a name or a value are never meant
      const [key, ...rest] = tag.split('=');
      const value = rest.join('=').trim();
      return models.setTags(version, { [key.trim()]: tag.includes('=') && value === '' ? null : value });
    }
    case 'archive':
      return models.setArchived(version, true);
    case 'restore':
      return models.setArchived(version, false);
    case 'delete': {
      const sure = await opener.confirm(
        `Delete ${ref}?`,
        `${ref} and its files are removed from the registry. This cannot be undone.`,
        'Delete'
      );
      return sure ? models.delete(version) : undefined;
    }
    case 'download':
      for (const file of version.files) {
        const link = document.createElement('a');
        link.href = models.client.fileUrl(version.name, version.version, file.path);
        link.download = file.path.split('/').pop() ?? file.path;
        link.click();
      }
      return;
  }
}
