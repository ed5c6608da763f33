/**
 * What the panel's components ask of JupyterLab: open a detail view in the
 * main area, open a notebook, ask the user for a name or a confirmation.
 * Given by the plugin (index.ts) through a React context, so components stay
 * free of the application object.
 */
import * as React from 'react';

import type { IFormHandle } from './dialogs';

export interface IOpener {
  openVersion(name: string, version: number): void;
  openDeployment(endpoint: string, deployment: string): void;
  /** The endpoint's main-area page. */
  openEndpoint(endpoint: string): void;
  /** An image's main-area page (its build report, pushes); `tag` names the tab. */
  openImage(id: number, tag: string): void;
  /** A batch job's main-area page; `id` is its operation's, `job` its number. */
  openJob(id: number, job: number): void;
  compare(name: string, versions: number[]): void;
  /** Open a file of the server's root (a source notebook) in JupyterLab. */
  openPath(path: string): void;
  /**
   * Show a notebook of the server's root as a read-only page (a job's log):
   * no kernel, nothing to save, so the record cannot be overwritten.
   */
  viewNotebook(path: string, label: string): void;
  /** Ask for one line of text; null when cancelled. */
  ask(title: string, label: string, value?: string): Promise<string | null>;
  /** Ask to confirm a change that cannot be undone. */
  confirm(title: string, body: string, accept: string): Promise<boolean>;
  /** Show a form that stays open until its work was accepted (true) or it was cancelled (false). */
  showForm(title: string, render: (handle: IFormHandle) => React.ReactElement): Promise<boolean>;
}

export const OpenerContext = React.createContext<IOpener | null>(null);

/** The opener given by the plugin; a component outside one is a programming error. */
export function useOpener(): IOpener {
  const opener = React.useContext(OpenerContext);
  if (!opener) {
    throw new Error('Model Hub components need an OpenerContext.');
  }
  return opener;
}
