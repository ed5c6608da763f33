/**
 * State of the Models section: the query, the model list, expanded models'
 * versions (with which ones matched the query), the versions picked for
 * comparing, actions started here on a version and what came of them.
 *
 * The panel holds no registry rules: filters are sent verbatim, whether an
 * action is possible comes from the version's `actions` (computed by the
 * server), and the server's answer, or its error message, is shown as is.
 */
import type {
  IConversionResult,
  IConvertRequest,
  IDeployRequest,
  IDeployment,
  IEndpoint,
  IModelHubClient,
  IModelSummary,
  IOperation,
  IVersion
} from '../../api';
import { messageOf, ModelHubError } from '../../errors';
import { conversionSummary } from '../../format';
import { failureMessage, followOperation } from '../../operations';
import { ServerRules } from '../../rules';
import { SectionModel } from '../../section';

/** Page size for the model list and a model's versions. */
export const PER_PAGE = 50;

/** How the model list is ordered: by name, or the most recently changed first. */
export type ModelSort = 'name' | 'updated';

export interface IQuery {
  /** Tag filter text, sent verbatim. */
  filter: string;
  /** Name substring. */
  search: string;
  /** '' means any flavor. */
  flavor: string;
}

export interface IVersionsState {
  loading: boolean;
  versions: IVersion[];
  total: number;
  error: string | null;
  /** Version numbers that match the query's filter and flavor; null without such a query. */
  matched: Set<number> | null;
}

/** An open version's view: the version as last loaded, a load error, or that it was deleted. */
export interface IDetailState {
  version: IVersion | null;
  error: string | null;
  /** The server no longer has it (404): shown as deleted, not polled. */
  deleted: boolean;
}

/** An action on a version started here (per version ref): busy, then its outcome. */
export interface IActionState {
  action: string;
  busy: boolean;
  /** The outcome: a summary, or the server's message when `error`. */
  message: string | null;
  error: boolean;
  /** The operation doing it, while busy (null until the server answered). */
  operation: IOperation | null;
}

export type IModelsClient = Pick<
  IModelHubClient,
  | 'listModels'
  | 'listVersions'
  | 'getVersion'
  | 'convertVersion'
  | 'getOperation'
  | 'updateVersion'
  | 'deleteVersion'
  | 'setAlias'
  | 'deploy'
  | 'packageVersion'
  | 'fileUrl'
  | 'openapi'
>;

export class ModelsModel extends SectionModel {
  constructor(client: IModelsClient, rules?: ServerRules) {
    super(true);
    this.client = client;
    this.rules = rules ?? new ServerRules(client);
  }

  readonly client: IModelsClient;

  /** The server's rules for the forms of actions (deploy, convert). */
  readonly rules: ServerRules;

  /** The endpoints as the Endpoints section has them (the deploy form offers them). */
  endpoints: () => readonly IEndpoint[] = () => [];

  /** Called with every state of an operation started here (the Activity section takes it in). */
  onOperation: (operation: IOperation) => void = () => undefined;

  /** Called after an action here changed what other sections show (endpoints, images). */
  onChanged: (what: 'endpoints' | 'images' | 'registry') => void = () => undefined;

  get query(): Readonly<IQuery> {
    return this._query;
  }

  /** The models loaded, in the order chosen (the server lists the most recently updated first). */
  get models(): readonly IModelSummary[] {
    if (this._sort === 'updated') {
      return this._models;
    }
    return [...this._models].sort((a, b) => a.name.localeCompare(b.name));
  }

  get sort(): ModelSort {
    return this._sort;
  }

  setSort(sort: ModelSort): void {
    if (sort !== this._sort) {
      this._sort = sort;
      this.emit();
    }
  }

  /** Whether archived versions (and models with only archived versions) are listed. */
  get showArchived(): boolean {
    return this._showArchived;
  }

  setShowArchived(show: boolean): void {
    if (show !== this._showArchived) {
      this._showArchived = show;
      this.emit();
      void this.reload();
    }
  }

  get total(): number {
    return this._total;
  }

  get loading(): boolean {
    return this._loading;
  }

  get loaded(): boolean {
    return this._loaded;
  }

  /** The server refused the query (HTTP 4xx): its message, shown under the filter. */
  get queryError(): string | null {
    return this._queryError;
  }

  /** Any other failure (server down, 5xx): a readable message. */
  get error(): string | null {
    return this._error;
  }

  get hasQuery(): boolean {
    const q = this._query;
    return !!(q.filter.trim() || q.search.trim() || q.flavor);
  }

  /** A query that picks versions (not only model names): matched versions are marked. */
  get marksVersions(): boolean {
    return !!(this._query.filter.trim() || this._query.flavor);
  }

  get hasMore(): boolean {
    return this._models.length < this._total;
  }

  isExpanded(name: string): boolean {
    return this._open.has(name);
  }

  versions(name: string): IVersionsState | undefined {
    return this._versions.get(name);
  }

  /** Every version shown here, by ref (for the detail views). */
  findVersion(ref: string): IVersion | undefined {
    for (const state of this._versions.values()) {
      const found = state.versions.find(v => v.ref === ref);
      if (found) {
        return found;
      }
    }
    return undefined;
  }

  /** The action started here on version `ref`, if any. */
  actionState(ref: string): IActionState | undefined {
    return this._actions.get(ref);
  }

  /** Forget the outcome shown for version `ref`. */
  dismiss(ref: string): void {
    const state = this._actions.get(ref);
    if (state && !state.busy) {
      this._actions.delete(ref);
      this.emit();
    }
  }

  // -- details (open version views, kept fresh with the list) ---------------------------

  /** Keep version `ref` loaded while its detail view is open. */
  watch(name: string, version: number): void {
    const ref = `${name}:${version}`;
    if (!this._details.has(ref)) {
      this._details.set(ref, { version: this.findVersion(ref) ?? null, error: null, deleted: false });
      this.emit();
    }
    void this.loadDetail(name, version);
  }

  unwatch(ref: string): void {
    this._details.delete(ref);
  }

  detail(ref: string): IDetailState | undefined {
    return this._details.get(ref);
  }

  /**
   * (Re)load an open version. One the server no longer has (404) is marked
   * deleted and never asked for again: its view says so instead of polling.
   */
  async loadDetail(name: string, version: number): Promise<void> {
    const ref = `${name}:${version}`;
    if (this._details.get(ref)?.deleted) {
      return;
    }
    let next: IDetailState;
    try {
      next = { version: await this.client.getVersion(name, version), error: null, deleted: false };
    } catch (error) {
      const gone = error instanceof ModelHubError && error.status === 404;
      next = { version: this._details.get(ref)?.version ?? null, error: gone ? null : messageOf(error), deleted: gone };
    }
    const current = this._details.get(ref);
    if (this.isDisposed || !current) {
      return;
    }
    if (JSON.stringify(current) !== JSON.stringify(next)) {
      this._details.set(ref, next);
      this.emit();
    }
  }

  // -- comparing ---------------------------------------------------------------------------

  /** The versions of `name` picked for comparing, in the order picked. */
  picked(name: string): number[] {
    return this._picked.get(name) ?? [];
  }

  isPicked(name: string, version: number): boolean {
    return this.picked(name).includes(version);
  }

  togglePick(name: string, version: number): void {
    const picked = this.picked(name);
    this._picked.set(
      name,
      picked.includes(version) ? picked.filter(v => v !== version) : [...picked, version]
    );
    this.emit();
  }

  // -- selection (what an Activity link led to) --------------------------------------------

  isSelected(name: string, version: number): boolean {
    return this._selected?.name === name && this._selected.version === version;
  }

  /** A token that changes on every selection, so the same one scrolls into view again. */
  get selection(): unknown {
    return this._selected;
  }

  /** Open the model and select the version. */
  select(name: string, version: number): void {
    this._selected = { name, version };
    this.open();
    if (!this._open.has(name)) {
      this.toggleModel(name);
      return;
    }
    this.emit();
  }

  // -- loading -----------------------------------------------------------------------------

  setQuery(query: Partial<IQuery>): Promise<void> {
    const next = { ...this._query, ...query };
    if (
      next.filter === this._query.filter &&
      next.search === this._query.search &&
      next.flavor === this._query.flavor
    ) {
      return Promise.resolve();
    }
    this._query = next;
    return this.reload();
  }

  /** Reload the model list (first page) and every expanded model's versions. */
  async reload(): Promise<void> {
    if (this.isDisposed) {
      return;
    }
    await this._fetchPage(1);
    for (const ref of this._details.keys()) {
      const [name, version] = splitRef(ref);
      void this.loadDetail(name, version);
    }
    const names = new Set(this._models.map(m => m.name));
    for (const name of Array.from(this._open)) {
      if (names.has(name)) {
        void this.loadVersions(name);
      }
    }
  }

  async loadMore(): Promise<void> {
    if (this.isDisposed || this._loading || !this.hasMore) {
      return;
    }
    await this._fetchPage(this._page + 1);
  }

  /** Expand or collapse a model; expanding loads its versions. */
  toggleModel(name: string): void {
    if (this._open.has(name)) {
      this._open.delete(name);
      this.emit();
      return;
    }
    this._open.add(name);
    this.emit();
    void this.loadVersions(name);
  }

  /** (Re)load the versions of one model, and which of them match the query. */
  async loadVersions(name: string): Promise<void> {
    if (this.isDisposed) {
      return;
    }
    const seq = (this._versionSeq.get(name) ?? 0) + 1;
    this._versionSeq.set(name, seq);
    const previous = this._versions.get(name);
    if (!previous) {
      this._versions.set(name, {
        loading: true,
        versions: [],
        total: 0,
        error: null,
        matched: null
      });
      this.emit();
    }
    const query = this._query;
    let state: IVersionsState;
    try {
      const [all, matching] = await Promise.all([
        this.client.listVersions(name, { archived: this._showArchived, per_page: PER_PAGE }),
        this.marksVersions
          ? this.client.listVersions(name, {
              archived: this._showArchived,
              filter: query.filter,
              flavor: query.flavor,
              per_page: PER_PAGE
            })
          : Promise.resolve(null)
      ]);
      state = {
        loading: false,
        versions: all.versions,
        total: all.total,
        error: null,
        matched: matching ? new Set(matching.versions.map(v => v.version)) : null
      };
    } catch (error) {
      state = {
        loading: false,
        versions: previous?.versions ?? [],
        total: previous?.total ?? 0,
        error: messageOf(error),
        matched: previous?.matched ?? null
      };
    }
    if (this.isDisposed || this._versionSeq.get(name) !== seq) {
      return;
    }
    if (!previous || !sameVersions(previous, state)) {
      this._versions.set(name, state);
      this.emit();
    }
  }

  /**
   * Fetch one page of models: page 1 replaces the list, later pages append
   * to it. A response that a newer request has overtaken is dropped; an
   * unchanged first page causes no re-render.
   */
  private async _fetchPage(page: number): Promise<void> {
    const seq = ++this._listSeq;
    const first = !this._loaded;
    this._loading = true;
    if (first || page > 1) {
      this.emit();
    }
    const query = this._query;
    let changed = first;
    try {
      const result = await this.client.listModels({
        archived: this._showArchived,
        q: query.search,
        filter: query.filter,
        flavor: query.flavor,
        page,
        per_page: PER_PAGE
      });
      if (seq !== this._listSeq || this.isDisposed) {
        return;
      }
      let models: IModelSummary[];
      if (page === 1) {
        models = result.models;
      } else {
        const seen = new Set(this._models.map(m => m.name));
        models = this._models.concat(result.models.filter(m => !seen.has(m.name)));
      }
      changed =
        changed ||
        this._queryError !== null ||
        this._error !== null ||
        this._total !== result.total ||
        JSON.stringify(models) !== JSON.stringify(this._models);
      this._models = models;
      this._queryError = null;
      this._loaded = true;
      this._total = result.total;
      this._page = page;
      this._error = null;
    } catch (error) {
      if (seq !== this._listSeq || this.isDisposed) {
        return;
      }
      changed = true;
      if (error instanceof ModelHubError && error.isClientError) {
        this._queryError = error.message;
        this._error = null;
        this._models = [];
        this._total = 0;
        this._page = 1;
      } else {
        this._error = messageOf(error);
        this._queryError = null;
      }
    } finally {
      if (seq === this._listSeq) {
        this._loading = false;
        if (changed || page > 1) {
          this.emit();
        }
      }
    }
  }

  // -- actions on a version ----------------------------------------------------------------

  /**
   * Convert a scikit-learn version to ONNX on the server: start the
   * operation, follow it until it ends, keep a one-line outcome (or the
   * server's message), then reload so the new version shows up.
   */
  convert(version: IVersion, request: IConvertRequest = {}): Promise<void> {
    return this._run(version.ref, 'convert', async () => {
      const started = await this.client.convertVersion(version.name, version.version, request);
      return this._converted(version, started);
    });
  }

  /**
   * Start a conversion made in the convert form: resolves once the server
   * accepted it and throws its refusal (for the form to show), then follows it.
   */
  async startConvert(version: IVersion, request: IConvertRequest): Promise<void> {
    const started = await this.client.convertVersion(version.name, version.version, request);
    void this._run(version.ref, 'convert', () => this._converted(version, started));
  }

  private async _converted(version: IVersion, started: IOperation): Promise<string | null> {
    const ended = await this._follow(version.ref, 'convert', started);
    if (ended === null) {
      return null;
    }
    if (ended.status !== 'succeeded') {
      throw new Error(failureMessage(ended));
    }
    const result = ended.result as unknown as IConversionResult | null;
    if (result?.version?.ref) {
      return conversionSummary(result);
    }
    const link = ended.link;
    return link?.type === 'version' ? `${version.ref} converted: ${link.ref}` : `${version.ref} converted.`;
  }

  /**
   * Send a deploy made in the deploy form. Resolves once the server accepted
   * it and throws its refusal (the form shows it, with the input kept); a
   * deploy that builds first is then followed under the version it serves.
   */
  async deploy(endpoint: string, request: IDeployRequest): Promise<void> {
    const ref = request.model;
    const deployment = request.deployment ?? 'blue';
    const answer = await this.client.deploy(endpoint, request);
    this.onChanged('endpoints');
    void this._run(ref, 'deploy', async () => {
      let text = `${ref} deployed to ${endpoint} (${deployment}).`;
      if (isOperation(answer)) {
        const ended = await this._follow(ref, 'deploy', answer);
        if (ended === null) {
          return null;
        }
        if (ended.status !== 'succeeded') {
          throw new Error(failureMessage(ended));
        }
        const made = ended.result as unknown as IEndpoint | null;
        text = optimized(made?.deployments?.find(d => d.name === deployment)) ?? text;
      } else {
        const state = answer.deployments.find(d => d.name === deployment);
        if (state && state.state !== 'healthy' && state.reason) {
          text = `${ref} on ${endpoint} (${deployment}): ${state.state}, ${state.reason}`;
        } else {
          text = optimized(state) ?? text;
        }
      }
      this.onChanged('endpoints');
      return text;
    });
  }

  /** Build a serving image of the version, as an operation. */
  package(version: IVersion): Promise<void> {
    return this._run(version.ref, 'package', async () => {
      const started = await this.client.packageVersion({ model: version.ref });
      const ended = await this._follow(version.ref, 'package', started);
      if (ended === null) {
        return null;
      }
      if (ended.status !== 'succeeded') {
        throw new Error(failureMessage(ended));
      }
      this.onChanged('images');
      const tag = (ended.result as { tag?: string } | null)?.tag;
      return tag ? `${version.ref} packaged as ${tag}.` : `${version.ref} packaged.`;
    });
  }

  /** Point `name@alias` at the version. */
  setAlias(version: IVersion, alias: string): Promise<void> {
    return this._run(version.ref, 'alias', async () => {
      await this.client.setAlias(version.name, alias, version.version);
      return `${version.name}@${alias} \u2192 ${version.ref}`;
    });
  }

  /**
   * Move `name@alias` to the version from the alias form: resolves once it
   * moved and throws the server's refusal (a 409 naming each promotion check
   * missing or failed, a 403) for the form to show, input kept.
   */
  async moveAlias(version: IVersion, alias: string): Promise<void> {
    await this.client.setAlias(version.name, alias, version.version);
    await this._run(version.ref, 'alias', async () => `${version.name}@${alias} \u2192 ${version.ref}`);
  }

  /** Set tags (a value of null removes the tag). */
  setTags(version: IVersion, tags: { [key: string]: string | null }): Promise<void> {
    return this._run(version.ref, 'tag', async () => {
      await this.client.updateVersion(version.name, version.version, { tags });
      return `Tags of ${version.ref} changed.`;
    });
  }

  /**
   * Change tags in place (the version page's chips): resolves once the server
   * stored them, the detail and the lists reloaded; throws the server's
   * refusal for the chip to show, its input kept.
   */
  async saveTags(version: IVersion, tags: { [key: string]: string | null }): Promise<void> {
    await this.client.updateVersion(version.name, version.version, { tags });
    if (this.isDisposed) {
      return;
    }
    this.onChanged('registry');
    await Promise.all([this.loadDetail(version.name, version.version), this.reload()]);
  }

  setArchived(version: IVersion, archived: boolean): Promise<void> {
    return this._run(version.ref, archived ? 'archive' : 'restore', async () => {
      await this.client.updateVersion(version.name, version.version, { archived });
      return archived ? `${version.ref} archived.` : `${version.ref} restored.`;
    });
  }

  delete(version: IVersion): Promise<void> {
    return this._run(version.ref, 'delete', async () => {
      await this.client.deleteVersion(version.name, version.version);
      return `${version.ref} deleted.`;
    });
  }

  /** Run one action on a version: busy meanwhile, then its outcome, then a reload. */
  private async _run(ref: string, action: string, work: () => Promise<string | null>): Promise<void> {
    if (this.isDisposed || this._actions.get(ref)?.busy) {
      return;
    }
    this._actions.set(ref, { action, busy: true, message: null, error: false, operation: null });
    this.emit();
    let state: IActionState;
    try {
      const message = await work();
      if (message === null) {
        return; // disposed while following
      }
      state = { action, busy: false, message, error: false, operation: null };
    } catch (error) {
      state = { action, busy: false, message: messageOf(error), error: true, operation: null };
    }
    if (this.isDisposed) {
      return;
    }
    this._actions.set(ref, state);
    this.emit();
    if (!state.error) {
      this.onChanged('registry');
      await this.reload();
    }
  }

  /** Follow an operation started here, showing its progress under the version. */
  private _follow(ref: string, action: string, started: IOperation): Promise<IOperation | null> {
    const update = (operation: IOperation) => {
      this.onOperation(operation);
      const previous = this._actions.get(ref)?.operation;
      this._actions.set(ref, { action, busy: true, message: null, error: false, operation });
      if (
        !previous ||
        previous.status !== operation.status ||
        previous.queue_position !== operation.queue_position ||
        JSON.stringify(previous.progress) !== JSON.stringify(operation.progress)
      ) {
        this.emit();
      }
    };
    update(started);
    return followOperation(this.client, started, {
      stopped: () => this.isDisposed,
      onUpdate: update
    });
  }

  private _query: IQuery = { filter: '', search: '', flavor: '' };
  private _sort: ModelSort = 'updated';
  private _showArchived = false;
  private _models: IModelSummary[] = [];
  private _total = 0;
  private _page = 1;
  private _loading = false;
  private _loaded = false;
  private _queryError: string | null = null;
  private _error: string | null = null;
  private _listSeq = 0;
  private _open = new Set<string>();
  private _versions = new Map<string, IVersionsState>();
  private _versionSeq = new Map<string, number>();
  private _actions = new Map<string, IActionState>();
  private _picked = new Map<string, number[]>();
  private _selected: { name: string; version: number } | null = null;
  private _details = new Map<string, IDetailState>();
}

/** "churn:2" -> ["churn", 2] */
export function splitRef(ref: string): [string, number] {
  const at = ref.lastIndexOf(':');
  return [ref.slice(0, at), Number(ref.slice(at + 1))];
}

/** What an optimized deploy serves, or why the original serves; null when not deployed with optimize. */
function optimized(deployment: IDeployment | undefined): string | null {
  const record = deployment?.optimization;
  if (!record) {
    return null;
  }
  return record.optimized_from
    ? `Serving ${record.serves}, the ONNX form of ${record.optimized_from} (equivalence proof: ${record.proof}).`
    : `Serving ${record.serves} as it is: ${record.reason}`;
}

function isOperation(answer: unknown): answer is IOperation {
  return typeof answer === 'object' && answer !== null && 'kind' in answer && 'status' in answer;
}

function sameVersions(a: IVersionsState, b: IVersionsState): boolean {
  return (
    a.loading === b.loading &&
    a.total === b.total &&
    a.error === b.error &&
    JSON.stringify(a.matched ? Array.from(a.matched) : null) ===
      JSON.stringify(b.matched ? Array.from(b.matched) : null) &&
    JSON.stringify(a.versions) === JSON.stringify(b.versions)
  );
}
