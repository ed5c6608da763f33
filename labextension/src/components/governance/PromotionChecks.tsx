/**
 * A version's promotion checks (issue 21): for each alias under promotion
 * rules, whether the alias may point at this version now and each check with
 * its status and what to do; an Approve button where an approval is missing,
 * disabled with the reason for the version's registrant (the server refuses
 * an approval by its registrant, and its refusal is shown too).
 */
import * as React from 'react';

import type { IAliasChecks, IPromotionCheck, IVersion } from '../../api';
import { ErrorRetry } from '../shared';
import { ChangeBanner } from './ChangeBanner';
import { GovernanceModel } from './model';
import { granters } from './PermissionsView';

/** A check's status as a mark and a word (the word is what a screen reader says). */
const MARKS: { [status: string]: string } = {
  passed: '\u2713',
  failed: '\u2717',
  missing: '\u2026',
  'not needed': '\u2013'
};

export function PromotionChecks(props: { governance: GovernanceModel; version: IVersion }): React.ReactElement | null {
  const { governance, version } = props;
  const loaded = governance.promotion(version.ref);
  const aliases = loaded?.data?.aliases ?? [];
  if (loaded?.data && aliases.length === 0) {
    return null; // no alias is under promotion rules on this server
  }
  return (
    <section className="jp-ModelHub-detailSection jp-ModelHub-promotion" aria-label={`Promotion checks of ${version.ref}`}>
      <h2>Promotion checks</h2>
      {loaded?.error && (
        <ErrorRetry
          message={loaded.error}
          label={`Retry loading the promotion checks of ${version.ref}`}
          onRetry={() => void governance.loadPromotion(version.ref)}
        />
      )}
      {!loaded && (
        <p className="jp-ModelHub-loading" role="status">
          Loading promotion checks…
        </p>
      )}
      {aliases.map(alias => (
        <AliasChecksView key={alias.alias} governance={governance} version={version} alias={alias} />
      ))}
    </section>
  );
}

function AliasChecksView(props: { governance: GovernanceModel; version: IVersion; alias: IAliasChecks }): React.ReactElement {
  const { governance, version, alias } = props;
  const approval = alias.checks.find(c => c.name === 'approval');
  const needsApproval = approval !== undefined && approval.status !== 'passed' && approval.status !== 'not needed';
  const registrant = !!governance.user && governance.user === version.created_by;
  const permissions = governance.permissions(version.name)?.data;
  // approving records evidence: the server asks for write on the model
  const readOnly = !!permissions && (permissions.yours === 'read' || permissions.yours === 'none');
  const why = registrant
    ? `You registered ${version.ref}: someone else must approve it.`
    : readOnly && permissions
      ? `Approving needs write on ${version.name}; you have ${permissions.yours}. Ask ${granters(permissions)}.`
      : null;
  const changeKey = `approve:${version.ref}:${alias.alias}`;
  const busy = governance.change(changeKey)?.busy;
  const reasonId = React.useId();
  const here = alias.current === version.ref;
  return (
    <div className="jp-ModelHub-aliasChecks" data-alias={alias.alias} data-allowed={alias.allowed}>
      <div className="jp-ModelHub-aliasChecksHead">
        <strong>
          {version.name}@{alias.alias}
        </strong>{' '}
        <span className={'jp-ModelHub-promotionVerdict ' + (alias.allowed ? 'jp-mod-ok' : 'jp-mod-refused')}>
          {here
            ? `points at ${version.ref} now`
            : alias.allowed
              ? `may move to ${version.ref}`
              : `cannot move to ${version.ref} yet`}
        </span>
        <span className="jp-ModelHub-note">
          {' '}
          (now {alias.current ?? 'not set'})
        </span>
      </div>
      <ul className="jp-ModelHub-checks" aria-label={`Checks of ${version.ref} for ${alias.alias}`}>
        {alias.checks.map(check => (
          <CheckRow key={check.name} check={check} />
        ))}
      </ul>
      {needsApproval && (
        <div className="jp-ModelHub-row">
          <button
            type="button"
            className="jp-ModelHub-approve jp-Button jp-mod-styled jp-mod-accept"
            aria-label={`Approve ${version.ref} for ${alias.alias}`}
            aria-describedby={why ? reasonId : undefined}
            aria-busy={busy ? true : undefined}
            disabled={why !== null || busy}
            onClick={() => void governance.approve(version.ref, alias.alias)}
          >
            {busy ? 'Approving…' : `Approve for ${alias.alias}`}
          </button>
          {why && (
            <span id={reasonId} className="jp-ModelHub-reasonText">
              {why}
            </span>
          )}
        </div>
      )}
      <ChangeBanner governance={governance} changeKey={changeKey} about={`approval of ${version.ref}`} />
    </div>
  );
}

function CheckRow(props: { check: IPromotionCheck }): React.ReactElement {
  const { check } = props;
  return (
    <li className={`jp-ModelHub-check jp-mod-${check.status.replace(/\s+/g, '-')}`} data-check={check.name} data-status={check.status}>
      <span className="jp-ModelHub-checkMark" aria-hidden="true">
        {MARKS[check.status] ?? '?'}
      </span>
      <span className="jp-ModelHub-checkName">{check.name}</span>
      <span className="jp-ModelHub-checkStatus">{check.status}</span>
      {check.detail && <span className="jp-ModelHub-checkDetail">{check.detail}</span>}
    </li>
  );
}
