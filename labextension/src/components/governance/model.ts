/**
 * State of the panel's governance views (issue 21): who may do what to a
 * model, the history of a model or an endpoint with its filters, a version's
 * promotion checks, and the changes made from these views (a grant, an
 * approval, a rollback) with the server's answer.
 *
 * What is shown is loaded while a view that shows it is open (`watch` counts
 * the views) and reloaded when the events feed says something changed
 * (`refresh`, called by the panel's poll). The server decides everything: who
 * may grant, what a rollback returns to, whether an alias may move; a refusal
 * (403 naming the permission missing and who can grant it, 409 naming the
 * failed checks) is kept to be shown where the action was tried.
 *
 * No JupyterLab imports, so it is unit-tested in plain Node.
 */
import type {
  IHistory,
  IHistoryEntry,
  IHistoryQuery,
  IModelHubClient,
  IPermissionRequest,
  IPermissions,
  IPromotion
} from '../../api';
import { messageOf, ModelHubError } from '../../errors';
import { SectionModel } from '../../section';

/** Entries of a history shown at once (the newest). */
export const HISTORY_LIMIT = 50;

export type IGovernanceClient = Pick<
  IModelHubClient,
  | 'permissions'
  | 'grant'
  | 'modelHistory'
  | 'endpointHistory'
  | 'rollbackAlias'
  | 'rollbackTraffic'
  | 'promotion'
  | 'approve'
  | 'listModels'
>;

/** Something loaded from the server: what arrived last, or why it failed (what was shown stays). */
export interface ILoaded<T> {
  data: T | null;
  error: string | null;
}

/** A change tried from a view: busy, then the server's word (an error) or what happened. */
export interface IChange {
  busy: boolean;
  error: string | null;
  message: string | null;
}

/** What a history is filtered by, as typed in its view. */
export interface IHistoryFilter {
  action: string;
  user: string;
  /** Endpoints only: "what served at" this time (a datetime-local value, local time); '' for now. */
  at: string;
}

/** "model:churn", "endpoint:churn-ep" */
export type SubjectKey = `${'model' | 'endpoint'}:${string}`;

export function subjectKey(kind: 'model' | 'endpoint', name: string): SubjectKey {
  return `${kind}:${name}`;
}

/** A model's aliases (alias -> version) as the registry lists them. */
export type AliasMap = { [alias: string]: number };

export class GovernanceModel extends SectionModel {
  constructor(client: IGovernanceClient) {
    super(true);
    this.client = client;
  }

  readonly client: IGovernanceClient;

  /**
   * The user the panel acts as (JupyterLab's identity), to say before it is tried
   * that a registrant cannot approve their own version; null when unknown.
   */
  user: string | null = null;

  /** Called after a change here (a grant, a rollback): the sections that show the registry reload. */
  onChanged: () => void = () => undefined;

  // -- what is followed ----------------------------------------------------------------------

  /** A view of a model (permissions, aliases, history) or an endpoint (history) opened. */
  watch(key: SubjectKey): void {
    this._watched.set(key, (this._watched.get(key) ?? 0) + 1);
    void this.load(key);
  }

  unwatch(key: SubjectKey): void {
    const count = (this._watched.get(key) ?? 0) - 1;
    if (count > 0) {
      this._watched.set(key, count);
    } else {
      this._watched.delete(key);
    }
  }

  /** A version's promotion checks are shown ("churn:2"). */
  watchPromotion(ref: string): void {
    this._promotionWatched.set(ref, (this._promotionWatched.get(ref) ?? 0) + 1);
    void this.loadPromotion(ref);
  }

  unwatchPromotion(ref: string): void {
    const count = (this._promotionWatched.get(ref) ?? 0) - 1;
    if (count > 0) {
      this._promotionWatched.set(ref, count);
    } else {
      this._promotionWatched.delete(ref);
    }
  }

  get isWatching(): boolean {
    return this._watched.size > 0 || this._promotionWatched.size > 0;
  }

  /** Reload everything an open view shows (the events feed said something changed). */
  async refresh(): Promise<void> {
    await Promise.all([
      ...Array.from(this._watched.keys()).map(key => this.load(key)),
      ...Array.from(this._promotionWatched.keys()).map(ref => this.loadPromotion(ref))
    ]);
  }

  // -- permissions ---------------------------------------------------------------------------

  permissions(model: string): ILoaded<IPermissions> | undefined {
    return this._permissions.get(model);
  }

  aliases(model: string): AliasMap | null {
    return this._aliases.get(model) ?? null;
  }

  /** Grant `permission` to `principal` ("default" takes a grant back); a refusal is kept to show. */
  grant(model: string, request: IPermissionRequest): Promise<boolean> {
    return this._change(`grant:${model}`, async () => {
      const answer = await this.client.grant(model, request);
      this._set(this._permissions, model, { data: answer, error: null });
      return request.permission === 'default'
        ? `${request.principal} has no grant of its own on ${model} any more.`
        : `${request.principal} now has ${request.permission} on ${model}.`;
    }, subjectKey('model', model));
  }

  // -- history -------------------------------------------------------------------------------

  history(key: SubjectKey): ILoaded<IHistory> | undefined {
    return this._history.get(key);
  }

  filter(key: SubjectKey): IHistoryFilter {
    return this._filters.get(key) ?? { action: '', user: '', at: '' };
  }

  setFilter(key: SubjectKey, filter: Partial<IHistoryFilter>): void {
    this._filters.set(key, { ...this.filter(key), ...filter });
    this.emit();
    void this.load(key);
  }

  // -- promotions ----------------------------------------------------------------------------

  promotion(ref: string): ILoaded<IPromotion> | undefined {
    return this._promotions.get(ref);
  }

  /** Approve version `ref` for `alias` (evidence recorded as the asking user). */
  approve(ref: string, alias: string): Promise<boolean> {
    const [name, version] = splitVersionRef(ref);
    return this._change(`approve:${ref}:${alias}`, async () => {
      const answer = await this.client.approve(name, version, alias);
      this._set(this._promotions, ref, { data: answer, error: null });
      return `${ref} approved for ${alias}.`;
    }, subjectKey('model', name));
  }

  // -- rollbacks -----------------------------------------------------------------------------

  /**
   * What a rollback of `name@alias` returns to: the version before its last
   * move (the newest alias.moved entry's old value), as the server does it;
   * null when the history shown has no such move.
   */
  aliasRollbackTarget(name: string, alias: string): { from: number; to: number | null; entry: IHistoryEntry } | null {
    const entries = this._aliasMoves.get(name) ?? [];
    const last = entries.find(e => e.subject === `${name}@${alias}`);
    if (!last) {
      return null;
    }
    return { from: Number(last.new), to: typeof last.old === 'number' ? last.old : null, entry: last };
  }

  rollbackAlias(name: string, alias: string): Promise<boolean> {
    return this._change(`rollback:${name}@${alias}`, async () => {
      const version = await this.client.rollbackAlias(name, alias);
      return `${name}@${alias} \u2192 ${version.ref} again.`;
    }, subjectKey('model', name));
  }

  /** What a traffic rollback of `endpoint` returns to (the newest traffic.changed entry's old value). */
  trafficRollbackTarget(endpoint: string): { traffic: { [d: string]: number }; entry: IHistoryEntry } | null {
    const last = this._trafficChanges.get(endpoint);
    const old = (last?.old ?? null) as { traffic?: { [d: string]: number } } | null;
    if (!last || !old?.traffic) {
      return null;
    }
    return { traffic: old.traffic, entry: last };
  }

  rollbackTraffic(endpoint: string): Promise<boolean> {
    return this._change(`rollback-traffic:${endpoint}`, async () => {
      const answer = await this.client.rollbackTraffic(endpoint);
      return `Traffic of ${endpoint} is back to ${trafficText(answer.traffic)}.`;
    }, subjectKey('endpoint', endpoint));
  }

  // -- changes -------------------------------------------------------------------------------

  change(key: string): IChange | undefined {
    return this._changes.get(key);
  }

  dismiss(key: string): void {
    if (this._changes.get(key)?.busy === false) {
      this._changes.delete(key);
      this.emit();
    }
  }

  // -- loading -------------------------------------------------------------------------------

  /** (Re)load what a view of `key` shows. */
  async load(key: SubjectKey): Promise<void> {
    if (this.isDisposed) {
      return;
    }
    const [kind, name] = splitKey(key);
    const filter = this.filter(key);
    const query: IHistoryQuery = { action: filter.action, user: filter.user, limit: HISTORY_LIMIT };
    if (kind === 'endpoint' && filter.at) {
      const at = new Date(filter.at);
      if (!isNaN(at.getTime())) {
        query.at = at.toISOString();
      }
    }
    const seq = (this._seq.get(key) ?? 0) + 1;
    this._seq.set(key, seq);
    const work: Promise<unknown>[] = [
      capture(kind === 'model' ? this.client.modelHistory(name, query) : this.client.endpointHistory(name, query)).then(
        loaded => {
          if (this._seq.get(key) === seq) {
            this._set(this._history, key, loaded, this._history.get(key)?.data);
          }
        }
      )
    ];
    if (kind === 'endpoint') {
      // what a rollback returns to, whatever the timeline's filter shows
      work.push(
        capture(this.client.endpointHistory(name, { action: 'traffic.changed', limit: 1 })).then(loaded => {
          if (loaded.data) {
            this._trafficChanges.set(name, loaded.data.entries[0]);
          }
        })
      );
    }
    if (kind === 'model') {
      work.push(
        capture(this.client.permissions(name)).then(loaded =>
          this._set(this._permissions, name, loaded, this._permissions.get(name)?.data)
        ),
        // what a rollback returns to, whatever the timeline's filter shows
        capture(this.client.modelHistory(name, { action: 'alias.moved', limit: HISTORY_LIMIT })).then(loaded => {
          if (loaded.data) {
            this._aliasMoves.set(name, loaded.data.entries);
          }
        }),
        capture(this.client.listModels({ q: name, archived: true, per_page: 50 })).then(loaded => {
          const found = loaded.data?.models.find(m => m.name === name);
          if (found) {
            this._aliases.set(name, (found.aliases ?? {}) as AliasMap);
          }
        })
      );
    }
    await Promise.all(work);
    this.emit();
  }

  async loadPromotion(ref: string): Promise<void> {
    if (this.isDisposed) {
      return;
    }
    const [name, version] = splitVersionRef(ref);
    let gone = false;
    const loaded = await capture(
      this.client.promotion(name, version).catch(error => {
        gone = error instanceof ModelHubError && error.status === 404;
        throw error;
      })
    );
    if (gone) {
      // a deleted version: its tab says so, and nothing asks for it again
      this._promotionWatched.delete(ref);
      this._promotions.delete(ref);
      return;
    }
    this._set(this._promotions, ref, loaded, this._promotions.get(ref)?.data);
  }

  private _set<K, T>(map: Map<K, ILoaded<T>>, key: K, loaded: ILoaded<T>, previous?: T | null): void {
    if (this.isDisposed) {
      return;
    }
    const next = { data: loaded.data ?? previous ?? null, error: loaded.error };
    if (JSON.stringify(map.get(key)) !== JSON.stringify(next)) {
      map.set(key, next);
      this.emit();
    }
  }

  /** Run a change: busy, then its outcome; on success reload what `reload` names. */
  private async _change(key: string, work: () => Promise<string>, reload: SubjectKey): Promise<boolean> {
    if (this.isDisposed || this._changes.get(key)?.busy) {
      return false;
    }
    this._changes.set(key, { busy: true, error: null, message: null });
    this.emit();
    let state: IChange;
    try {
      state = { busy: false, error: null, message: await work() };
    } catch (error) {
      state = { busy: false, error: refusal(error), message: null };
    }
    if (this.isDisposed) {
      return false;
    }
    this._changes.set(key, state);
    this.emit();
    if (!state.error) {
      this.onChanged();
      await Promise.all([this.load(reload), ...Array.from(this._promotionWatched.keys()).map(r => this.loadPromotion(r))]);
    }
    return !state.error;
  }

  private _watched = new Map<SubjectKey, number>();
  private _promotionWatched = new Map<string, number>();
  private _permissions = new Map<string, ILoaded<IPermissions>>();
  private _aliases = new Map<string, AliasMap>();
  private _aliasMoves = new Map<string, IHistoryEntry[]>();
  private _trafficChanges = new Map<string, IHistoryEntry | undefined>();
  private _history = new Map<SubjectKey, ILoaded<IHistory>>();
  private _filters = new Map<SubjectKey, IHistoryFilter>();
  private _promotions = new Map<string, ILoaded<IPromotion>>();
  private _changes = new Map<string, IChange>();
  private _seq = new Map<SubjectKey, number>();
}

/** The server's message; a 403 says so first, as the reason to look for someone else. */
export function refusal(error: unknown): string {
  if (error instanceof ModelHubError && error.status === 403) {
    return `Not allowed: ${error.message}`;
  }
  return messageOf(error);
}

async function capture<T>(promise: Promise<T>): Promise<ILoaded<T>> {
  try {
    return { data: await promise, error: null };
  } catch (error) {
    return { data: null, error: refusal(error) };
  }
}

function splitKey(key: SubjectKey): ['model' | 'endpoint', string] {
  const at = key.indexOf(':');
  return [key.slice(0, at) as 'model' | 'endpoint', key.slice(at + 1)];
}

/** "churn:2" -> ["churn", 2] */
export function splitVersionRef(ref: string): [string, number] {
  const at = ref.lastIndexOf(':');
  return [ref.slice(0, at), Number(ref.slice(at + 1))];
}

/** "blue 90%, green 10%" */
export function trafficText(traffic: { [deployment: string]: number } | null | undefined): string {
  const parts = Object.entries(traffic ?? {}).map(([d, p]) => `${d} ${p}%`);
  return parts.length ? parts.join(', ') : 'no live traffic';
}

/** An entry's old or new value in a few words: "v2", "blue 90%, green 10%", "read". */
export function valueText(value: unknown): string {
  if (value === null || value === undefined) {
    return '—';
  }
  if (typeof value === 'number') {
    return `v${value}`;
  }
  if (typeof value === 'string') {
    return value;
  }
  if (typeof value === 'object') {
    const record = value as { [key: string]: unknown };
    if (typeof record.ref === 'string') {
      return record.ref; // a deployment: the version it serves
    }
    if (record.traffic && typeof record.traffic === 'object') {
      const mirror = record.mirror as { deployment?: string; percent?: number } | undefined;
      const text = trafficText(record.traffic as { [d: string]: number });
      return mirror?.deployment ? `${text}; mirror ${mirror.percent}% to ${mirror.deployment}` : text;
    }
    if (typeof record.permission === 'string') {
      return record.permission;
    }
    const text = JSON.stringify(value);
    return text.length > 120 ? text.slice(0, 119) + '…' : text;
  }
  return String(value);
}
