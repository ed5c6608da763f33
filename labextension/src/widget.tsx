/**
 * The Model Hub sidebar widget and the main-area detail views. The sidebar
 * renders the sections; the hub's poll stands by while it is hidden. A detail
 * view keeps what it shows followed (a version's data, a deployment's log
 * and metrics) while it is open.
 */
import * as React from 'react';

import { ReactWidget, UseSignal } from '@jupyterlab/ui-components';
import { ISignal } from '@lumino/signaling';
import { Message } from '@lumino/messaging';

import { CompareView, VersionDetail } from './components/models';
import { DeploymentDetail, EndpointPage } from './components/endpoints';
import { ImagePage } from './components/images';
import { JobPage } from './components/batch';
import { subjectKey } from './components/governance';
import { ModelHubView } from './components/ModelHubView';
import { ModelHubModel } from './model';
import { IOpener, OpenerContext } from './opener';

export class ModelHubPanel extends ReactWidget {
  constructor(hub: ModelHubModel, opener: IOpener) {
    super();
    this.hub = hub;
    this.opener = opener;
    this.addClass('jp-ModelHub-panel');
  }

  readonly hub: ModelHubModel;
  readonly opener: IOpener;

  render(): React.ReactElement {
    return (
      <OpenerContext.Provider value={this.opener}>
        <ModelHubView hub={this.hub} />
      </OpenerContext.Provider>
    );
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this.hub.dispose();
    super.dispose();
  }

  protected onAfterAttach(msg: Message): void {
    super.onAfterAttach(msg);
    if (this.isVisible) {
      this.hub.show();
    }
  }

  protected onBeforeDetach(msg: Message): void {
    this.hub.hide();
    super.onBeforeDetach(msg);
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    this.hub.show();
  }

  protected onAfterHide(msg: Message): void {
    this.hub.hide();
    super.onAfterHide(msg);
  }
}

/** What a detail view shows and follows, and which section's signal re-renders it. */
export interface IDetailKind {
  signal: ISignal<unknown, void>;
  render: () => React.ReactElement;
  /** Start following (the view opened) and stop (it closed). */
  watch?: () => void;
  unwatch?: () => void;
}

export class DetailView extends ReactWidget {
  constructor(kind: IDetailKind, opener: IOpener) {
    super();
    this.kind = kind;
    this.opener = opener;
    this.addClass('jp-ModelHub-detailView');
    kind.watch?.();
  }

  readonly kind: IDetailKind;
  readonly opener: IOpener;

  render(): React.ReactElement {
    return (
      <OpenerContext.Provider value={this.opener}>
        <UseSignal signal={this.kind.signal}>{() => this.kind.render()}</UseSignal>
      </OpenerContext.Provider>
    );
  }

  dispose(): void {
    if (!this.isDisposed) {
      this.kind.unwatch?.();
    }
    super.dispose();
  }
}

/** The detail view of version `name:version`. */
export function versionDetail(hub: ModelHubModel, name: string, version: number): IDetailKind {
  return {
    signal: hub.models.changed as ISignal<unknown, void>,
    render: () => <VersionDetail hub={hub} name={name} version={version} />,
    watch: () => {
      hub.models.watch(name, version);
      hub.governance.watch(subjectKey('model', name));
      hub.governance.watchPromotion(`${name}:${version}`);
    },
    unwatch: () => {
      hub.models.unwatch(`${name}:${version}`);
      hub.governance.unwatch(subjectKey('model', name));
      hub.governance.unwatchPromotion(`${name}:${version}`);
    }
  };
}

export function deploymentDetail(hub: ModelHubModel, endpoint: string, deployment: string): IDetailKind {
  return {
    signal: hub.endpoints.changed as ISignal<unknown, void>,
    render: () => <DeploymentDetail hub={hub} endpoint={endpoint} deployment={deployment} />,
    watch: () => hub.endpoints.watch(endpoint, deployment),
    unwatch: () => hub.endpoints.unwatch(endpoint, deployment)
  };
}

export function compareView(hub: ModelHubModel, name: string, versions: number[]): IDetailKind {
  return {
    signal: hub.models.changed as ISignal<unknown, void>,
    render: () => <CompareView hub={hub} name={name} versions={versions} />
  };
}

/** The main-area page of an endpoint: its deployments, traffic, keys, try-it, logs, history, collection, monitoring. */
export function endpointPage(hub: ModelHubModel, endpoint: string): IDetailKind {
  return {
    signal: hub.endpoints.changed as ISignal<unknown, void>,
    render: () => <EndpointPage hub={hub} endpoint={endpoint} />,
    watch: () => {
      hub.endpoints.watchPage(endpoint);
      hub.governance.watch(subjectKey('endpoint', endpoint));
    },
    unwatch: () => {
      hub.endpoints.unwatchPage(endpoint);
      hub.governance.unwatch(subjectKey('endpoint', endpoint));
    }
  };
}

/** An image's main-area page: its build report and pushes, from the Images listing (loaded if it was not). */
export function imagePage(hub: ModelHubModel, id: number, tag: string): IDetailKind {
  return {
    signal: hub.images.changed as ISignal<unknown, void>,
    render: () => <ImagePage hub={hub} id={id} tag={tag} />,
    watch: () => {
      if (!hub.images.loaded) {
        void hub.images.reload();
      }
    }
  };
}

/** A batch job's main-area page, the job reloaded with the Batch section and while the page is open. */
export function jobPage(hub: ModelHubModel, id: number): IDetailKind {
  return {
    signal: hub.batch.changed as ISignal<unknown, void>,
    render: () => <JobPage hub={hub} id={id} />,
    watch: () => hub.batch.watchJob(id),
    unwatch: () => hub.batch.unwatchJob(id)
  };
}
