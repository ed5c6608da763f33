/**
 * Who may do what to a model (issue 21): its creator, the grants, what
 * everyone else has, the admins, and the asking user's own permission; a
 * grant and revoke form for those who manage it, checked as typed with the
 * server's rules (`PermissionRequest`). For anyone else the form is disabled
 * and says why in visible text, naming who can grant.
 */
import * as React from 'react';

import type { IPermissionRequest, IPermissions } from '../../api';
import { Field } from '../../dialogs';
import type { ServerRules } from '../../rules';
import { ErrorRetry, RelativeTime, TableHead } from '../shared';
import { ChangeBanner } from './ChangeBanner';
import { GovernanceModel } from './model';

const PERMISSIONS: IPermissionRequest['permission'][] = ['read', 'write', 'manage', 'none', 'default'];

const PERMISSION_HINTS: { [p: string]: string } = {
  read: 'read: see it, its files and its history',
  write: 'write: also register, tag, alias, deploy, package, batch',
  manage: 'manage: also delete and change permissions',
  none: 'none: for everyone, closes it to all not named',
  default: 'default: take back a grant of its own'
};

/** Who can grant on the model, in words: "alice (its creator) or an admin (root)". */
export function granters(p: IPermissions): string {
  const names = Array.from(new Set([...(p.managers ?? []), ...(p.admins ?? [])]));
  return names.length ? names.join(', ') : 'an admin';
}

export function PermissionsView(props: {
  governance: GovernanceModel;
  rules: ServerRules;
  model: string;
}): React.ReactElement {
  const { governance, model } = props;
  const loaded = governance.permissions(model);
  const p = loaded?.data;
  return (
    <section className="jp-ModelHub-detailSection jp-ModelHub-permissions" aria-label={`Permissions on ${model}`}>
      <h2>Permissions on {model}</h2>
      {loaded?.error && (
        <ErrorRetry
          message={loaded.error}
          label={`Retry loading the permissions of ${model}`}
          onRetry={() => void governance.load(`model:${model}`)}
        />
      )}
      {!p && !loaded?.error && (
        <p className="jp-ModelHub-loading" role="status">
          Loading permissions…
        </p>
      )}
      {p && (
        <>
          <dl className="jp-ModelHub-facts">
            <dt>Yours</dt>
            <dd className="jp-ModelHub-yourPermission">{p.yours}</dd>
            <dt>Creator</dt>
            <dd className="jp-ModelHub-creator">{p.creator || 'unknown'} (manages it)</dd>
            <dt>Everyone else</dt>
            <dd className="jp-ModelHub-defaultPermission">{p.default_permission}</dd>
            <dt>Admins</dt>
            <dd>{p.admins?.length ? p.admins.join(', ') : 'none'}</dd>
          </dl>
          {p.grants.length ? (
            <table className="jp-ModelHub-table jp-ModelHub-grants" aria-label={`Grants on ${model}`}>
              <TableHead columns={['who', 'permission', 'granted by', '']} />
              <tbody>
                {p.grants.map(grant => (
                  <tr key={grant.principal} data-principal={grant.principal}>
                    <td>{grant.principal}</td>
                    <td className="jp-ModelHub-grantPermission">{grant.permission}</td>
                    <td>
                      {grant.granted_by}, <RelativeTime iso={grant.granted_time} />
                    </td>
                    <td>
                      {p.yours === 'manage' && (
                        <button
                          type="button"
                          className="jp-ModelHub-revoke jp-Button jp-mod-styled"
                          aria-label={`Revoke the grant of ${grant.principal} on ${model}`}
                          disabled={governance.change(`grant:${model}`)?.busy}
                          onClick={() => void governance.grant(model, { principal: grant.principal, permission: 'default' })}
                        >
                          Revoke
                        </button>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : (
            <p className="jp-ModelHub-note">No grants: everyone not named above has {p.default_permission}.</p>
          )}
          <GrantForm governance={governance} rules={props.rules} model={model} permissions={p} />
        </>
      )}
    </section>
  );
}

function GrantForm(props: {
  governance: GovernanceModel;
  rules: ServerRules;
  model: string;
  permissions: IPermissions;
}): React.ReactElement {
  const { governance, rules, model, permissions } = props;
  const [principal, setPrincipal] = React.useState('');
  const [permission, setPermission] = React.useState<IPermissionRequest['permission']>('read');
  const [touched, setTouched] = React.useState(false);
  const [, setReady] = React.useState(rules.ready);
  React.useEffect(() => {
    void rules.load().then(setReady);
  }, []);
  const change = governance.change(`grant:${model}`);
  const manages = permissions.yours === 'manage';
  const request: IPermissionRequest = { principal: principal.trim(), permission };
  const errors = rules.check('PermissionRequest', request, { principal: 'Who', permission: 'Permission' });
  if (!request.principal) {
    errors.principal = 'Who is needed: user:NAME, group:NAME or everyone.';
  }
  const reasonId = React.useId();
  const refusedReason = manages
    ? null
    : `You have ${permissions.yours} on ${model}; granting needs manage. Ask ${granters(permissions)}.`;
  return (
    <form
      className="jp-ModelHub-grantForm"
      aria-label={`Grant a permission on ${model}`}
      aria-describedby={refusedReason ? reasonId : undefined}
      noValidate
      onSubmit={async event => {
        event.preventDefault();
        setTouched(true);
        if (!manages || Object.keys(errors).length || change?.busy) {
          return;
        }
        if (await governance.grant(model, request)) {
          setPrincipal('');
          setTouched(false);
        }
      }}
    >
      <fieldset disabled={!manages} className="jp-ModelHub-fieldset">
        <legend>Grant</legend>
        <Field label="Who" error={touched || principal ? errors.principal : null} hint="user:NAME, group:NAME or everyone">
          {(id, describedBy) => (
            <input
              id={id}
              className="jp-ModelHub-principal"
              type="text"
              value={principal}
              aria-describedby={describedBy}
              aria-invalid={!!(principal && errors.principal)}
              placeholder="group:risk"
              onChange={event => setPrincipal(event.target.value)}
            />
          )}
        </Field>
        <Field label="Permission" hint={PERMISSION_HINTS[permission]}>
          {(id, describedBy) => (
            <select
              id={id}
              className="jp-ModelHub-grantPermissionSelect"
              value={permission}
              aria-describedby={describedBy}
              onChange={event => setPermission(event.target.value as IPermissionRequest['permission'])}
            >
              {PERMISSIONS.map(name => (
                <option key={name} value={name}>
                  {name}
                </option>
              ))}
            </select>
          )}
        </Field>
        <button
          type="submit"
          className="jp-ModelHub-grant jp-Button jp-mod-styled jp-mod-accept"
          aria-busy={change?.busy ? true : undefined}
          disabled={change?.busy}
        >
          {change?.busy ? 'Granting…' : 'Grant'}
        </button>
      </fieldset>
      {refusedReason && (
        <p id={reasonId} className="jp-ModelHub-reasonText jp-ModelHub-grantRefused">
          {refusedReason}
        </p>
      )}
      <ChangeBanner governance={governance} changeKey={`grant:${model}`} about={`permissions of ${model}`} />
    </form>
  );
}
