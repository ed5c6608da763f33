/**
 * A version's model card on its detail (issue 21): the card the server renders
 * from what the registry knows (`card?format=html`, Markdown with raw HTML
 * escaped), shown through JupyterLab's sanitizer so it takes the theme; a link
 * that downloads its Markdown; and, for those who may write, an editor of the
 * Markdown whose written sections (intended use, limitations, ...) the server
 * keeps. The server decides what is kept and who may save: a refusal is shown
 * in the dialog, with the text typed kept.
 */
import * as React from 'react';

import { Sanitizer } from '@jupyterlab/apputils';

import type { IModelHubClient } from '../../api';
import { FormFooter, IFormHandle } from '../../dialogs';
import { messageOf } from '../../errors';
import { useOpener } from '../../opener';
import { ErrorRetry } from '../shared';

type ICardClient = Pick<IModelHubClient, 'cardText' | 'cardUrl' | 'saveCard'>;

const sanitizer = new Sanitizer();

export function ModelCard(props: {
  client: ICardClient;
  name: string;
  version: number;
  /** The asking user's permission on the model (from the permissions view); null while unknown. */
  yours: string | null;
}): React.ReactElement {
  const { client, name, version } = props;
  const ref = `${name}:${version}`;
  const opener = useOpener();
  const [html, setHtml] = React.useState<string | null>(null);
  const [error, setError] = React.useState<string | null>(null);
  const [loads, setLoads] = React.useState(0);
  React.useEffect(() => {
    let current = true;
    setError(null);
    client.cardText(name, version, 'html').then(
      text => current && setHtml(sanitizer.sanitize(text)),
      reason => current && setError(messageOf(reason))
    );
    return () => {
      current = false;
    };
  }, [client, name, version, loads]);
  const mayWrite = props.yours === 'write' || props.yours === 'manage';
  const edit = async () => {
    let markdown: string;
    try {
      markdown = await client.cardText(name, version, 'md');
    } catch (reason) {
      setError(messageOf(reason));
      return;
    }
    const saved = await opener.showForm(`Model card of ${ref}`, handle => (
      <CardEditor handle={handle} initial={markdown} save={text => client.saveCard(name, version, { markdown: text })} />
    ));
    if (saved) {
      setLoads(n => n + 1);
    }
  };
  return (
    <section aria-label="Model card" className="jp-ModelHub-detailSection jp-ModelHub-modelCard">
      <h2>Model card</h2>
      <div className="jp-ModelHub-row">
        <a
          className="jp-ModelHub-cardDownload jp-Button jp-mod-styled"
          href={client.cardUrl(name, version)}
          download={`${name}-${version}-card.md`}
          aria-label={`Download the model card of ${ref} (.md)`}
        >
          Download .md
        </a>
        <button
          type="button"
          className="jp-ModelHub-cardEdit jp-Button jp-mod-styled"
          aria-label={`Edit the written sections of the card of ${ref}`}
          disabled={!mayWrite}
          onClick={() => void edit()}
        >
          Edit written sections
        </button>
        {props.yours !== null && !mayWrite && (
          <span className="jp-ModelHub-reasonText">Editing needs write on {name}; you have {props.yours}.</span>
        )}
      </div>
      {error ? (
        <ErrorRetry message={error} label={`Retry loading the card of ${ref}`} onRetry={() => setLoads(n => n + 1)} />
      ) : html === null ? (
        <p className="jp-ModelHub-loading" role="status">
          Loading the card…
        </p>
      ) : (
        <article
          className="jp-ModelHub-cardBody jp-RenderedHTMLCommon"
          aria-label={`Model card of ${ref}`}
          dangerouslySetInnerHTML={{ __html: html }}
        />
      )}
    </section>
  );
}

function CardEditor(props: {
  handle: IFormHandle;
  initial: string;
  save: (markdown: string) => Promise<unknown>;
}): React.ReactElement {
  const [text, setText] = React.useState(props.initial);
  const [busy, setBusy] = React.useState(false);
  const [error, setError] = React.useState<string | null>(null);
  return (
    <form
      className="jp-ModelHub-form jp-ModelHub-cardForm"
      onSubmit={async event => {
        event.preventDefault();
        setBusy(true);
        setError(null);
        try {
          await props.save(text);
          props.handle.close();
        } catch (reason) {
          setError(messageOf(reason));
          setBusy(false);
        }
      }}
    >
      <p className="jp-ModelHub-fieldHint">
        The written sections (intended use, out-of-scope use, limitations, recommendations) are kept; the rest is made
        again from what the registry knows.
      </p>
      <textarea
        className="jp-ModelHub-cardMarkdown"
        aria-label="Model card (Markdown)"
        value={text}
        rows={24}
        spellCheck={false}
        onChange={event => setText(event.target.value)}
      />
      <FormFooter
        error={error}
        busy={busy}
        blocked={text.trim() ? null : 'The card is empty.'}
        submitLabel="Save"
        busyLabel="Saving…"
        onCancel={props.handle.cancel}
      />
    </form>
  );
}
