/**
 * A model's aliases, each with a Rollback button that points it back at the
 * version before its last move (issue 21), after a confirmation naming that
 * version and the move it undoes. What it returns to is read from the
 * history, as the server does it; a rollback is recorded like any change.
 */
import * as React from 'react';

import { absoluteTime } from '../../format';
import { useOpener } from '../../opener';
import { ChangeBanner } from './ChangeBanner';
import { GovernanceModel } from './model';

export function AliasRows(props: { governance: GovernanceModel; model: string }): React.ReactElement | null {
  const { governance, model } = props;
  const opener = useOpener();
  const aliases = governance.aliases(model);
  if (!aliases || Object.keys(aliases).length === 0) {
    return null;
  }
  return (
    <section className="jp-ModelHub-detailSection jp-ModelHub-aliasRows" aria-label={`Aliases of ${model}`}>
      <h2>Aliases of {model}</h2>
      <ul className="jp-ModelHub-aliasList">
        {Object.keys(aliases)
          .sort()
          .map(alias => {
            const target = governance.aliasRollbackTarget(model, alias);
            const key = `rollback:${model}@${alias}`;
            const busy = governance.change(key)?.busy;
            const yours = governance.permissions(model)?.data?.yours;
            const why =
              yours === 'read' || yours === 'none'
                ? `Rolling back needs write on ${model}; you have ${yours}.`
                : target === null
                ? 'Never moved: nothing to return to.'
                : target.to === null
                  ? 'Created by its last move: nothing to return to.'
                  : null;
            return (
              <li key={alias} className="jp-ModelHub-aliasRow" data-alias={alias}>
                <span className="jp-ModelHub-alias">
                  {alias} {'\u2192'} v{aliases[alias]}
                </span>
                <button
                  type="button"
                  className="jp-ModelHub-rollbackAlias jp-Button jp-mod-styled"
                  aria-label={`Roll back ${model}@${alias}`}
                  disabled={busy || why !== null}
                  onClick={async () => {
                    if (!target || target.to === null) {
                      return;
                    }
                    const entry = target.entry;
                    const sure = await opener.confirm(
                      `Roll back ${model}@${alias}?`,
                      `${model}@${alias} returns to ${model}:${target.to}. It points at ${model}:${target.from} since ` +
                        `${entry.user || 'someone'} moved it on ${absoluteTime(entry.at)}. The rollback is recorded in the history.`,
                      `Return to ${model}:${target.to}`
                    );
                    if (sure) {
                      void governance.rollbackAlias(model, alias);
                    }
                  }}
                >
                  Rollback
                </button>
                {why && <span className="jp-ModelHub-reasonText">{why}</span>}
                <ChangeBanner governance={governance} changeKey={key} about={`rollback of ${model}@${alias}`} />
              </li>
            );
          })}
      </ul>
    </section>
  );
}
