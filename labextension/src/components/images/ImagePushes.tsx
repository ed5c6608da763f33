/**
 * Where an image was pushed (each reference with the digest-pinned one to
 * pull, copyable), and a field to push it somewhere: REGISTRY/REPO[:TAG].
 * The push runs on the server as an operation; its progress shows here, then
 * the outcome or the server's one-line error.
 */
import * as React from 'react';

import type { IImage } from '../../api';

import { ProgressBar } from '../activity';
import { CopyButton, RelativeTime } from '../shared';
import { ImagesModel } from './model';

export function ImagePushes(props: { images: ImagesModel; image: IImage }): React.ReactElement {
  const { images, image } = props;
  const [reference, setReference] = React.useState('');
  const state = images.pushState(image.id);
  const pushes = image.pushes ?? [];
  const submit = (event: React.FormEvent) => {
    event.preventDefault();
    if (reference.trim()) {
      void images.push(image, reference);
    }
  };
  return (
    <div className="jp-ModelHub-imagePushes">
      {pushes.length === 0 ? (
        <p className="jp-ModelHub-note">Not pushed: a cluster cannot pull it until it is in a registry.</p>
      ) : (
        <ul className="jp-ModelHub-pushList" aria-label={`Where ${image.tag} was pushed`}>
          {pushes.map(push => (
            <li key={push.reference} className="jp-ModelHub-push" data-reference={push.reference}>
              <code className="jp-ModelHub-pushReference">{push.reference}</code>{' '}
              <RelativeTime iso={push.pushed_time} className="jp-ModelHub-pushTime" />
              {push.pushed_by ? ` by ${push.pushed_by}` : ''}
              <div className="jp-ModelHub-pushPinned">
                <code title={push.pinned}>{push.pinned}</code>
                <CopyButton text={push.pinned} label={`Copy ${push.pinned}`} />
              </div>
            </li>
          ))}
        </ul>
      )}
      <form className="jp-ModelHub-pushForm" onSubmit={submit}>
        <input
          type="text"
          className="jp-ModelHub-filter jp-ModelHub-pushReferenceInput"
          spellCheck={false}
          autoComplete="off"
          placeholder="REGISTRY/REPO[:TAG]"
          aria-label={`Push ${image.tag} to`}
          value={reference}
          maxLength={384}
          disabled={state?.busy}
          onChange={event => setReference(event.target.value)}
        />
        <button
          type="submit"
          className="jp-ModelHub-pushButton jp-Button jp-mod-styled jp-mod-accept"
          disabled={state?.busy || !reference.trim()}
          aria-label={`Push ${image.tag}`}
        >
          Push
        </button>
      </form>
      {state?.busy &&
        (state.operation ? (
          <ProgressBar operation={state.operation} label={`Progress of the push of ${image.tag}`} />
        ) : (
          <div className="jp-ModelHub-actionProgress" role="status">
            push…
          </div>
        ))}
      {!state?.busy && state?.message && (
        <div
          className={'jp-ModelHub-actionResult ' + (state.error ? 'jp-ModelHub-error' : 'jp-ModelHub-success')}
          data-action="push"
          role={state.error ? 'alert' : 'status'}
        >
          <span className="jp-ModelHub-actionText">{state.message}</span>
          <button
            type="button"
            className="jp-ModelHub-dismiss"
            aria-label={`Dismiss the message about the push of ${image.tag}`}
            title="Dismiss"
            onClick={() => images.dismissPush(image.id)}
          >
            ×
          </button>
        </div>
      )}
    </div>
  );
}
