/**
 * A version's tags as chips edited in place: click a chip to change its value,
 * × to remove it, "+ tag" to add one. Names and values are trimmed ("team = growth "
 * is team=growth) and checked with the server's rules for the request (the
 * OpenAPI document's UpdateVersionRequest) before anything is sent; the
 * server's refusal shows under the chips, the input kept.
 */
import * as React from 'react';

import type { IVersion } from '../../api';
import { messageOf } from '../../errors';
import type { ModelsModel } from './model';

/** What is being edited: a chip's value, or a new tag's name and value. */
type Editing = { key: string; value: string; isNew: boolean } | null;

export function TagEditor(props: { models: ModelsModel; version: IVersion; readOnly?: string | null }): React.ReactElement {
  const { models, version } = props;
  const tags = version.tags ?? {};
  const [editing, setEditing] = React.useState<Editing>(null);
  const [error, setError] = React.useState<string | null>(null);
  const [busy, setBusy] = React.useState(false);
  // the server's rules (fetched once per panel) are there before the first save
  React.useEffect(() => void models.rules.load(), [models]);

  const problem = (change: { [key: string]: string | null }): string | null => {
    for (const key of Object.keys(change)) {
      if (!key) {
        return 'A tag needs a name.';
      }
    }
    const labels: { [field: string]: string } = { tags: 'A tag name' };
    Object.keys(change).forEach(key => (labels[`tags.${key}`] = `The value of tag ${key}`));
    const found = Object.values(models.rules.check('UpdateVersionRequest', { tags: change }, labels));
    return found[0] ?? null;
  };

  const save = async (change: { [key: string]: string | null }) => {
    const refused = problem(change);
    if (refused) {
      setError(refused);
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await models.saveTags(version, change);
      setEditing(null);
    } catch (e) {
      setError(messageOf(e));
    } finally {
      setBusy(false);
    }
  };

  const submit = (event: React.FormEvent) => {
    event.preventDefault();
    if (!editing) {
      return;
    }
    const key = editing.key.trim();
    const value = editing.value.trim();
    const change: { [key: string]: string | null } = { [key]: value };
    if (!editing.isNew && key !== editing.key) {
      change[editing.key] = null;
    }
    if (editing.isNew && key in tags && tags[key] === value) {
      setEditing(null);
      return;
    }
    void save(change);
  };

  const cancel = () => {
    setEditing(null);
    setError(null);
  };

  const keys = Object.keys(tags).sort();
  return (
    <div className="jp-ModelHub-tagEditor" aria-label={`Tags of ${version.ref}`} role="group">
      {keys.map(key =>
        editing && !editing.isNew && editing.key === key ? (
          <TagForm key={key} editing={editing} setEditing={setEditing} busy={busy} onSubmit={submit} onCancel={cancel} />
        ) : (
          <span key={key} className="jp-ModelHub-tag jp-ModelHub-tagChip" data-tag={key}>
            <button
              type="button"
              className="jp-ModelHub-tagEdit"
              aria-label={`Edit tag ${key}`}
              title="Change its value"
              disabled={busy || !!props.readOnly}
              onClick={() => {
                setError(null);
                setEditing({ key, value: tags[key], isNew: false });
              }}
            >
              {tags[key] === '' ? key : `${key}=${tags[key]}`}
            </button>
            <button
              type="button"
              className="jp-ModelHub-tagRemove"
              aria-label={`Remove tag ${key}`}
              title="Remove this tag"
              disabled={busy || !!props.readOnly}
              onClick={() => void save({ [key]: null })}
            >
              ×
            </button>
          </span>
        )
      )}
      {editing?.isNew ? (
        <TagForm editing={editing} setEditing={setEditing} busy={busy} onSubmit={submit} onCancel={cancel} />
      ) : (
        <button
          type="button"
          className="jp-ModelHub-link jp-ModelHub-tagAdd"
          aria-label={`Add a tag to ${version.ref}`}
          disabled={busy || !!props.readOnly}
          title={props.readOnly ?? undefined}
          onClick={() => {
            setError(null);
            setEditing({ key: '', value: '', isNew: true });
          }}
        >
          + tag
        </button>
      )}
      {props.readOnly && <span className="jp-ModelHub-note">{props.readOnly}</span>}
      {error && (
        <p className="jp-ModelHub-fieldError jp-ModelHub-tagError" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}

function TagForm(props: {
  editing: NonNullable<Editing>;
  setEditing: (editing: Editing) => void;
  busy: boolean;
  onSubmit: (event: React.FormEvent) => void;
  onCancel: () => void;
}): React.ReactElement {
  const { editing, setEditing } = props;
  const keyDown = (event: React.KeyboardEvent) => {
    if (event.key === 'Escape') {
      event.preventDefault();
      props.onCancel();
    }
  };
  return (
    <form className="jp-ModelHub-tagForm" onSubmit={props.onSubmit} onKeyDown={keyDown}>
      {editing.isNew ? (
        <input
          className="jp-ModelHub-tagName"
          aria-label="Tag name"
          placeholder="name"
          value={editing.key}
          autoFocus
          onChange={e => setEditing({ ...editing, key: e.target.value })}
        />
      ) : (
        <span className="jp-ModelHub-tagNameFixed">{editing.key}=</span>
      )}
      <input
        className="jp-ModelHub-tagValue"
        aria-label={editing.isNew ? 'Tag value' : `Value of tag ${editing.key}`}
        placeholder="value"
        value={editing.value}
        autoFocus={!editing.isNew}
        onChange={e => setEditing({ ...editing, value: e.target.value })}
      />
      <button type="submit" className="jp-Button jp-mod-styled jp-mod-accept jp-ModelHub-tagSave" disabled={props.busy}>
        Save
      </button>
      <button type="button" className="jp-Button jp-mod-styled" onClick={props.onCancel}>
        Cancel
      </button>
    </form>
  );
}
