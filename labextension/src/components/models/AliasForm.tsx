/**
 * The alias form: the alias to point at a version, checked as typed with the
 * server's rule for an alias (the path parameter of `PUT
 * models/{name}/aliases/{alias}`). It closes once the alias moved; a refusal
 * stays in the dialog with the alias kept: under promotion rules the server's
 * 409 names each check missing or failed, shown one per line.
 */
import * as React from 'react';

import type { IVersion } from '../../api';
import { Field, FormFooter, IFormHandle } from '../../dialogs';
import { messageOf } from '../../errors';
import type { ServerRules } from '../../rules';

const ALIAS_PATH = '/models/{name}/aliases/{alias}';

export function AliasForm(props: {
  version: IVersion;
  rules: ServerRules;
  handle: IFormHandle;
  move: (alias: string) => Promise<void>;
}): React.ReactElement {
  const { version, rules, handle } = props;
  const [alias, setAlias] = React.useState('production');
  const [busy, setBusy] = React.useState(false);
  const [serverError, setServerError] = React.useState<string | null>(null);
  const [, setReady] = React.useState(rules.ready);
  React.useEffect(() => {
    void rules.load().then(setReady);
  }, []);
  const value = alias.trim();
  const error = value
    ? rules.checkParameter(ALIAS_PATH, 'put', 'alias', value, 'The alias')
    : 'The alias is needed (e.g. production).';
  const blocked = error ? 'Correct the alias to move it.' : null;
  const submit = async (event: React.FormEvent) => {
    event.preventDefault();
    if (busy || blocked) {
      return;
    }
    setBusy(true);
    setServerError(null);
    try {
      await props.move(value);
      handle.close();
    } catch (reason) {
      setServerError(messageOf(reason));
      setBusy(false);
    }
  };
  return (
    <form className="jp-ModelHub-form jp-ModelHub-aliasForm" aria-label={`Alias for ${version.ref}`} onSubmit={submit} noValidate>
      <Field
        label="Alias"
        error={error}
        hint={`${version.name}@ALIAS will point at ${version.ref}; an alias under promotion rules moves only when its checks pass.`}
      >
        {(id, describedBy) => (
          <input
            id={id}
            type="text"
            className="jp-ModelHub-aliasName"
            aria-describedby={describedBy}
            aria-invalid={!!error}
            value={alias}
            onChange={event => {
              setServerError(null);
              setAlias(event.target.value);
            }}
          />
        )}
      </Field>
      <FormFooter
        error={serverError}
        busy={busy}
        blocked={blocked}
        submitLabel="Move alias"
        busyLabel="Moving…"
        onCancel={handle.cancel}
      />
    </form>
  );
}
