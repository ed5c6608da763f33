/**
 * jupyter-modelhub: the "Model Hub" panel in JupyterLab's left sidebar, its
 * detail views in the main area, and its context menus (versions in the
 * panel; "Register as model" in the file browser).
 */
import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import {
  Dialog,
  ICommandPalette,
  IFrame,
  InputDialog,
  MainAreaWidget,
  Notification,
  showDialog,
  showErrorMessage
} from '@jupyterlab/apputils';
import { URLExt } from '@jupyterlab/coreutils';
import { IFileBrowserFactory } from '@jupyterlab/filebrowser';

import { ActionName, IVersion, ModelHubClient } from './api';
import { ACTION_LABELS, isAllowed, startAction } from './components/models';
import { splitRef } from './components/models/model';
import { showForm } from './dialogs';
import { messageOf } from './errors';
import { modelHubIcon } from './icon';
import { ModelHubModel } from './model';
import { IOpener } from './opener';
import { isRegistrable, readFiles, registerFiles, suggestedName } from './register';
import { INotice } from './notifications';
import {
  compareView,
  deploymentDetail,
  DetailView,
  endpointPage,
  IDetailKind,
  imagePage,
  jobPage,
  ModelHubPanel,
  versionDetail
} from './widget';

export * from './api';
export { ModelHubModel } from './model';
export { ModelHubPanel } from './widget';

const PANEL_ID = 'jupyter-modelhub-panel';

/** Rank in the left sidebar: after the file browser (100). */
const SIDEBAR_RANK = 150;

namespace CommandIDs {
  export const open = 'modelhub:open';
  export const refresh = 'modelhub:refresh';
  export const register = 'modelhub:register';
  export const openVersion = 'modelhub:open-version';
  /** `modelhub:version-<action>`, one per action of the version context menu. */
  export const versionAction = (action: ActionName) => `modelhub:version-${action}`;
}

/** The actions on a version's context menu. */
const MENU_ACTIONS: ActionName[] = ['convert', 'deploy', 'package', 'alias', 'archive', 'delete'];

const plugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyter-modelhub:plugin',
  description: 'A sidebar panel to register, convert, deploy and watch models in the Model Hub.',
  autoStart: true,
  optional: [ILayoutRestorer, ICommandPalette, IFileBrowserFactory],
  activate: (
    app: JupyterFrontEnd,
    restorer: ILayoutRestorer | null,
    palette: ICommandPalette | null,
    browsers: IFileBrowserFactory | null
  ) => {
    const client = new ModelHubClient(app.serviceManager.serverSettings);
    const hub = new ModelHubModel(client);
    const views = new Map<string, MainAreaWidget>();

    const show = (id: string, label: string, kind: () => IDetailKind) => {
      const open = views.get(id);
      if (open && !open.isDisposed) {
        app.shell.activateById(open.id);
        return;
      }
      const view = new MainAreaWidget({ content: new DetailView(kind(), opener) });
      view.id = `jupyter-modelhub-${id.replace(/[^A-Za-z0-9_-]/g, '-')}`;
      view.title.label = label;
      view.title.icon = modelHubIcon;
      view.title.closable = true;
      view.disposed.connect(() => views.delete(id));
      views.set(id, view);
      app.shell.add(view, 'main');
      app.shell.activateById(view.id);
    };

    const opener: IOpener = {
      openVersion: (name, version) =>
        show(`version:${name}:${version}`, `${name}:${version}`, () => versionDetail(hub, name, version)),
      openDeployment: (endpoint, deployment) =>
        show(`deployment:${endpoint}/${deployment}`, `${endpoint}/${deployment}`, () =>
          deploymentDetail(hub, endpoint, deployment)
        ),
      openEndpoint: endpoint => show(`endpoint:${endpoint}`, endpoint, () => endpointPage(hub, endpoint)),
      openImage: (id, tag) => show(`image:${id}`, tag, () => imagePage(hub, id, tag)),
      openJob: (id, job) => show(`job:${id}`, `job ${job}`, () => jobPage(hub, id)),
      compare: (name, versions) =>
        show(`compare:${name}:${versions.join(',')}`, `Compare ${name}`, () => compareView(hub, name, versions)),
      openPath: path => void app.commands.execute('docmanager:open', { path }),
      viewNotebook: (path, label) => {
        const id = `notebook:${path}`;
        const open = views.get(id);
        if (open && !open.isDisposed) {
          app.shell.activateById(open.id);
          return;
        }
        const view = new MainAreaWidget({ content: notebookPage(app.serviceManager.serverSettings.baseUrl, path) });
        view.id = `jupyter-modelhub-${id.replace(/[^A-Za-z0-9_-]/g, '-')}`;
        view.title.label = label;
        view.title.caption = `${path}, rendered by nbconvert: read-only`;
        view.title.icon = modelHubIcon;
        view.title.closable = true;
        view.disposed.connect(() => views.delete(id));
        views.set(id, view);
        app.shell.add(view, 'main');
        app.shell.activateById(view.id);
      },
      ask: async (title, label, value = '') => {
        const answer = await InputDialog.getText({ title, label, text: value, okLabel: 'OK' });
        return answer.button.accept && answer.value ? answer.value : null;
      },
      confirm: async (title, body, accept) => {
        const answer = await showDialog({
          title,
          body,
          buttons: [Dialog.cancelButton(), Dialog.warnButton({ label: accept })]
        });
        return answer.button.accept;
      },
      showForm: (title, render) => showForm(title, render)
    };

    // Long work started from the panel (or by this user elsewhere) says when it ended.
    hub.onNotice = (notice: INotice) => {
      const actions = notice.actions.map(action => ({
        label: action.label,
        caption: action.label,
        callback: () => {
          const link = action.link;
          if (link.type === 'version') {
            opener.openVersion(link.model, link.version);
          } else if (link.type === 'endpoint') {
            opener.openEndpoint(link.name);
          } else {
            app.shell.activateById(panel.id);
            hub.activity.open();
            if (!hub.activity.isLogOpen(link.id)) {
              hub.activity.toggleLog(link.id);
            }
          }
        }
      }));
      const options = { autoClose: notice.failed ? (false as const) : 8000, actions };
      if (notice.failed) {
        Notification.error(notice.message, options);
      } else {
        Notification.success(notice.message, options);
      }
    };
    void app.serviceManager.user.ready.then(() => hub.setUser(app.serviceManager.user.identity?.username ?? null));

    const panel = new ModelHubPanel(hub, opener);
    panel.id = PANEL_ID;
    panel.title.icon = modelHubIcon;
    panel.title.caption = 'Model Hub';
    panel.node.setAttribute('aria-label', 'Model Hub');
    panel.node.setAttribute('role', 'region');
    app.shell.add(panel, 'left', { rank: SIDEBAR_RANK });
    if (restorer) {
      restorer.add(panel, 'jupyter-modelhub');
    }

    app.commands.addCommand(CommandIDs.open, {
      label: 'Open Model Hub',
      caption: 'Show the Model Hub panel',
      execute: () => app.shell.activateById(panel.id)
    });
    app.commands.addCommand(CommandIDs.refresh, {
      label: 'Refresh Model Hub',
      execute: () => hub.refresh()
    });
    app.commands.addCommand(CommandIDs.openVersion, {
      label: 'Details',
      execute: () => {
        const version = versionUnderMenu(app, hub);
        if (version) {
          opener.openVersion(version.name, version.version);
        }
      }
    });
    app.contextMenu.addItem({ command: CommandIDs.openVersion, selector: '.jp-ModelHub-version', rank: 0 });

    // The version context menu: each action enabled as the server's `actions` say.
    MENU_ACTIONS.forEach((action, rank) => {
      app.commands.addCommand(CommandIDs.versionAction(action), {
        label: ACTION_LABELS[action],
        caption: () => {
          const version = versionUnderMenu(app, hub);
          const reason = version?.actions?.[action];
          return reason && !reason.allowed ? `Not possible: ${reason.reason}` : '';
        },
        isEnabled: () => {
          const version = versionUnderMenu(app, hub);
          return !!version && isAllowed(version, action);
        },
        execute: () => {
          const version = versionUnderMenu(app, hub);
          if (version) {
            return startAction(hub.models, opener, version, action);
          }
        }
      });
      app.contextMenu.addItem({
        command: CommandIDs.versionAction(action),
        selector: '.jp-ModelHub-version',
        rank: rank + 1
      });
    });

    // "Register as model" on model files and folders in the file browser.
    if (browsers) {
      app.commands.addCommand(CommandIDs.register, {
        label: 'Register as Model…',
        caption: 'Register this file or folder as a new version in the Model Hub',
        icon: modelHubIcon,
        isVisible: () => {
          const item = browsers.tracker.currentWidget?.selectedItems().next();
          return !!item && !item.done && isRegistrable(item.value);
        },
        execute: async () => {
          const item = browsers.tracker.currentWidget?.selectedItems().next();
          if (!item || item.done) {
            return;
          }
          const path = item.value.path;
          const name = await opener.ask('Register as model', `Model name for ${path}`, suggestedName(path));
          if (!name) {
            return;
          }
          try {
            const files = await readFiles(app.serviceManager.contents, path);
            const version = await registerFiles(client, name.trim(), files, `Registered from ${path}`);
            app.shell.activateById(panel.id);
            hub.models.select(version.name, version.version);
            void hub.models.reload();
            opener.openVersion(version.name, version.version);
          } catch (error) {
            await showErrorMessage(`Cannot register ${path}`, messageOf(error));
          }
        }
      });
      app.contextMenu.addItem({
        command: CommandIDs.register,
        selector: '.jp-DirListing-item[data-isdir]',
        rank: 60
      });
    }

    if (palette) {
      const category = 'Model Hub';
      palette.addItem({ command: CommandIDs.open, category });
      palette.addItem({ command: CommandIDs.refresh, category });
    }
  }
};

/**
 * A notebook rendered to HTML by the server's nbconvert handler, in a sandboxed
 * frame with no scripts: what a job's executed notebook says, with no kernel
 * and no document that could be edited and saved over the job's log.
 */
function notebookPage(baseUrl: string, path: string): IFrame {
  const frame = new IFrame({ sandbox: [], referrerPolicy: 'same-origin' });
  frame.addClass('jp-ModelHub-notebookPage');
  const parts = path.split('/').map(encodeURIComponent).join('/');
  frame.url = URLExt.join(baseUrl, 'nbconvert/html', parts) + '?download=false';
  return frame;
}

/** The version row the context menu was opened on, as the Models section has it. */
function versionUnderMenu(app: JupyterFrontEnd, hub: ModelHubModel): IVersion | undefined {
  const node = app.contextMenuHitTest(n => n.classList.contains('jp-ModelHub-version'));
  const name = node?.dataset.model;
  const version = node?.dataset.version;
  if (!name || !version) {
    return undefined;
  }
  const [model, number] = splitRef(`${name}:${version}`);
  return hub.models.findVersion(`${model}:${number}`);
}


export default plugin;
