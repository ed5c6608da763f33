/**
 * The Model Hub sidebar widget: renders the React view and runs the event
 * poll only while it is attached and visible.
 */
import * as React from 'react';

import { ReactWidget, UseSignal } from '@jupyterlab/ui-components';
import { Message } from '@lumino/messaging';

import { ModelHubView } from './components';
import { ModelHubModel } from './model';

export class ModelHubPanel extends ReactWidget {
  constructor(model: ModelHubModel) {
    super();
    this.model = model;
    this.addClass('jp-ModelHub-panel');
  }

  readonly model: ModelHubModel;

  render(): React.ReactElement {
    return (
      <UseSignal signal={this.model.changed}>
        {() => <ModelHubView model={this.model} />}
      </UseSignal>
    );
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this.model.dispose();
    super.dispose();
  }

  protected onAfterAttach(msg: Message): void {
    super.onAfterAttach(msg);
    if (this.isVisible) {
      this.model.startPolling();
    }
  }

  protected onBeforeDetach(msg: Message): void {
    this.model.stopPolling();
    super.onBeforeDetach(msg);
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    this.model.startPolling();
  }

  protected onAfterHide(msg: Message): void {
    this.model.stopPolling();
    super.onAfterHide(msg);
  }
}
