/**
 * jupyter-modelhub: the "Model Hub" panel in JupyterLab's left sidebar.
 */
import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';

import { ModelHubClient } from './api';
import { modelHubIcon } from './icon';
import { ModelHubModel } from './model';
import { ModelHubPanel } from './widget';

export * from './api';
export { ModelHubModel } from './model';
export { ModelHubPanel } from './widget';

const PANEL_ID = 'jupyter-modelhub-panel';

/** Rank in the left sidebar: after the file browser (100). */
const SIDEBAR_RANK = 150;

namespace CommandIDs {
  export const open = 'modelhub:open';
  export const refresh = 'modelhub:refresh';
}

const plugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyter-modelhub:plugin',
  description: 'A sidebar panel to browse the models registered in the Model Hub.',
  autoStart: true,
  optional: [ILayoutRestorer, ICommandPalette],
  activate: (
    app: JupyterFrontEnd,
    restorer: ILayoutRestorer | null,
    palette: ICommandPalette | null
  ) => {
    const client = new ModelHubClient(app.serviceManager.serverSettings);
    const model = new ModelHubModel(client);
    const panel = new ModelHubPanel(model);
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
      execute: () => model.refresh()
    });
    if (palette) {
      const category = 'Model Hub';
      palette.addItem({ command: CommandIDs.open, category });
      palette.addItem({ command: CommandIDs.refresh, category });
    }
  }
};

export default plugin;
