/**
 * A form in a JupyterLab dialog that stays open until the server accepted it.
 *
 * JupyterLab's `showDialog` closes on any button, so an error could only be
 * shown after the dialog was gone and the user's input with it. Here the form
 * brings its own buttons (the dialog has none): submitting waits for the
 * server, a refusal is shown inside the dialog with everything typed kept,
 * and only a success (or Cancel, Escape) closes it. The dialog still gives
 * the look, the backdrop, Escape and the focus trap.
 */
import * as React from 'react';

import { Dialog, ReactWidget } from '@jupyterlab/apputils';

/** What a form body gets: close the dialog (after its work succeeded) or cancel it. */
export interface IFormHandle {
  close(): void;
  cancel(): void;
}

/** Show `render`'s form in a dialog titled `title`; resolves when it closed (true: done, false: cancelled). */
export async function showForm(
  title: string,
  render: (handle: IFormHandle) => React.ReactElement,
  className = ''
): Promise<boolean> {
  let done = false;
  let dialog: Dialog<unknown> | null = null;
  const handle: IFormHandle = {
    close: () => {
      done = true;
      dialog?.reject();
    },
    cancel: () => dialog?.reject()
  };
  const body = ReactWidget.create(render(handle));
  body.addClass('jp-ModelHub-formBody');
  dialog = new Dialog({
    title,
    body,
    buttons: [],
    hasClose: true,
    focusNodeSelector: 'input, select, textarea'
  });
  dialog.addClass('jp-ModelHub-formDialog');
  if (className) {
    dialog.addClass(className);
  }
  try {
    await dialog.launch();
  } finally {
    dialog.dispose();
  }
  return done;
}

/** The footer of a form: the error the server (or the form) gave, Cancel, and the submit button. */
export function FormFooter(props: {
  error: string | null;
  busy: boolean;
  /** Why submitting is not possible now, in words shown beside the button; null when it is. */
  blocked: string | null;
  submitLabel: string;
  busyLabel: string;
  onCancel: () => void;
}): React.ReactElement {
  const errorNode = React.useRef<HTMLDivElement>(null);
  // the submit button was disabled while busy, which took the focus out of the dialog: bring it
  // back to what the server said (Escape and Tab work again, a screen reader reads it)
  React.useEffect(() => {
    if (props.error) {
      errorNode.current?.focus();
    }
  }, [props.error]);
  return (
    <>
      {props.error && (
        <div ref={errorNode} tabIndex={-1} className="jp-ModelHub-error jp-ModelHub-formError" role="alert">
          {props.error}
        </div>
      )}
      <div className="jp-ModelHub-formFooter">
        {props.blocked && !props.busy && (
          <span className="jp-ModelHub-blocked" role="status">
            {props.blocked}
          </span>
        )}
        <button type="button" className="jp-Dialog-button jp-mod-reject jp-mod-styled" onClick={props.onCancel}>
          <span className="jp-Dialog-buttonLabel">Cancel</span>
        </button>
        <button
          type="submit"
          className="jp-Dialog-button jp-mod-accept jp-mod-styled jp-ModelHub-submit"
          disabled={props.busy || props.blocked !== null}
          aria-busy={props.busy ? true : undefined}
        >
          <span className="jp-Dialog-buttonLabel">{props.busy ? props.busyLabel : props.submitLabel}</span>
        </button>
      </div>
    </>
  );
}

/** A labelled field with its problem underneath (tied to it for screen readers). */
export function Field(props: {
  label: string;
  error?: string | null;
  hint?: React.ReactNode;
  children: (id: string, describedBy: string | undefined) => React.ReactElement;
}): React.ReactElement {
  const id = React.useId();
  const errorId = `${id}-error`;
  const hintId = `${id}-hint`;
  const describedBy = [props.error ? errorId : '', props.hint ? hintId : ''].filter(Boolean).join(' ') || undefined;
  return (
    <div className={'jp-ModelHub-field' + (props.error ? ' jp-mod-invalid' : '')}>
      <label className="jp-ModelHub-fieldLabel" htmlFor={id}>
        {props.label}
      </label>
      {props.children(id, describedBy)}
      {props.hint && (
        <div id={hintId} className="jp-ModelHub-fieldHint">
          {props.hint}
        </div>
      )}
      {props.error && (
        <div id={errorId} className="jp-ModelHub-fieldError">
          {props.error}
        </div>
      )}
    </div>
  );
}
