/**
 * State of the Activity section: the operations running on the server and the
 * most recent ones, open log tails, and cancel requests made here.
 *
 * It has its own signal, so progress ticks re-render this section only. The
 * panel's one poll (model.ts) refreshes it when the events feed has an
 * "operation" event, and on every round while an operation is active (the
 * poll then runs every ACTIVITY_INTERVAL ms).
 *
 * Not here: what an operation does or whether it may be cancelled; the server
 * decides and its answer is shown as is.
 */
import { ISignal, Signal } from '@lumino/signaling';

import type { IModelHubClient, IOperation } from '../../api';
import { messageOf } from '../../errors';
import { SectionModel } from '../../section';

/** How often the panel's poll runs while an operation is active (ms). */
export const ACTIVITY_INTERVAL = 1000;

/** How many of the newest operations are listed besides every active one. */
export const RECENT_OPERATIONS = 5;

/** How many active operations one reload asks for. */
export const ACTIVE_PAGE = 50;

/** Lines of an operation's log shown when it is opened. */
export const LOG_TAIL = 20;

export type IActivityClient = Pick<
  IModelHubClient,
  'listOperations' | 'operationLog' | 'cancelOperation'
>;

export interface ILogState {
  loading: boolean;
  text: string;
  error: string | null;
}

export interface ICancelState {
  busy: boolean;
  /** The server's message when it refused. */
  error: string | null;
}

export class ActivityModel extends SectionModel {
  constructor(client: IActivityClient) {
    super(true);
    this.client = client;
  }

  readonly client: IActivityClient;

  /**
   * Emitted with an operation seen active here and then ended, so the panel
   * can reload what it made (the endpoints record no event of their own).
   */
  get ended(): ISignal<this, IOperation> {
    return this._ended;
  }

  /** Every active operation and the newest others, newest first. */
  get operations(): readonly IOperation[] {
    return this._operations;
  }

  get activeCount(): number {
    return this._operations.filter(op => op.active).length;
  }

  /** True once the operations have been received at least once. */
  get loaded(): boolean {
    return this._loaded;
  }

  /** The last reload failed: a readable message (what was shown stays). */
  get error(): string | null {
    return this._error;
  }

  isLogOpen(id: number): boolean {
    return this._logs.has(id);
  }

  log(id: number): ILogState | undefined {
    return this._logs.get(id);
  }

  /** Open (and load) or close the log tail of operation `id`. */
  toggleLog(id: number): void {
    if (this._logs.has(id)) {
      this._logs.delete(id);
      this._logFinal.delete(id);
      this.emit();
      return;
    }
    this._logs.set(id, { loading: true, text: '', error: null });
    this.emit();
    void this.loadLog(id);
  }

  /** (Re)load the tail of the log of operation `id`, if it is open. */
  async loadLog(id: number): Promise<void> {
    if (this.isDisposed || !this._logs.has(id)) {
      return;
    }
    const seq = (this._logSeq.get(id) ?? 0) + 1;
    this._logSeq.set(id, seq);
    // A log read after its operation ended is complete: no need to read it again.
    const final = !this._find(id)?.active;
    let next: ILogState;
    try {
      const text = await this.client.operationLog(id, LOG_TAIL);
      next = { loading: false, text, error: null };
    } catch (error) {
      const previous = this._logs.get(id);
      next = { loading: false, text: previous?.text ?? '', error: messageOf(error) };
    }
    if (
      this.isDisposed ||
      !this._logs.has(id) ||
      this._logSeq.get(id) !== seq
    ) {
      return;
    }
    if (final && next.error === null) {
      this._logFinal.add(id);
    }
    const current = this._logs.get(id);
    if (
      current?.loading !== next.loading ||
      current.text !== next.text ||
      current.error !== next.error
    ) {
      this._logs.set(id, next);
      this.emit();
    }
  }

  cancelState(id: number): ICancelState | undefined {
    return this._cancels.get(id);
  }

  /**
   * Ask the server to cancel operation `id`. Its answer replaces the
   * operation; a refusal (it had already ended) is kept as the message to show.
   */
  async cancel(id: number): Promise<void> {
    if (this.isDisposed || this._cancels.get(id)?.busy) {
      return;
    }
    this._cancels.set(id, { busy: true, error: null });
    this.emit();
    let operation: IOperation | null = null;
    let error: string | null = null;
    try {
      operation = await this.client.cancelOperation(id);
    } catch (reason) {
      error = messageOf(reason);
    }
    if (this.isDisposed) {
      return;
    }
    if (error === null) {
      this._cancels.delete(id);
    } else {
      this._cancels.set(id, { busy: false, error });
    }
    if (operation) {
      this.remember(operation);
    } else {
      this.emit();
    }
    await this.refresh();
  }

  /**
   * Take in a newer state of one operation (the answer to a POST that started
   * it, or a follow-up) without waiting for the next reload.
   */
  remember(operation: IOperation): void {
    if (this.isDisposed) {
      return;
    }
    const others = this._operations.filter(op => op.id !== operation.id);
    const previous = this._find(operation.id);
    if (previous && JSON.stringify(previous) === JSON.stringify(operation)) {
      return;
    }
    this._operations = sortNewestFirst([...others, operation]);
    this.emit();
    this._noticeEnded(previous ? [previous] : []);
    this._reloadOpenLogs();
  }

  /**
   * Reload every active operation and the newest RECENT_OPERATIONS; an
   * unchanged answer causes no re-render. A response overtaken by a newer
   * request is dropped.
   */
  async refresh(): Promise<void> {
    if (this.isDisposed) {
      return;
    }
    const seq = ++this._seq;
    let operations: IOperation[] | null = null;
    let error: string | null = null;
    try {
      const [active, recent] = await Promise.all([
        this.client.listOperations({
          status: ['queued', 'running'],
          per_page: ACTIVE_PAGE
        }),
        this.client.listOperations({ per_page: RECENT_OPERATIONS })
      ]);
      const byId = new Map<number, IOperation>();
      for (const op of [...(recent.operations ?? []), ...(active.operations ?? [])]) {
        byId.set(op.id, op);
      }
      operations = sortNewestFirst(Array.from(byId.values()));
    } catch (reason) {
      error = messageOf(reason);
    }
    if (this.isDisposed || seq !== this._seq) {
      return;
    }
    let changed = false;
    if (operations) {
      const same =
        JSON.stringify(operations) === JSON.stringify(this._operations);
      if (!this._loaded || !same) {
        const previous = this._operations;
        this._operations = operations;
        this._loaded = true;
        changed = true;
        this._forgetGone();
        this._noticeEnded(previous);
      }
    }
    if (error !== this._error) {
      this._error = error;
      changed = true;
    }
    if (changed) {
      this.emit();
    }
    this._reloadOpenLogs();
  }

  /** Emit `ended` for each of `previous` that was active and is no longer. */
  private _noticeEnded(previous: readonly IOperation[]): void {
    for (const before of previous) {
      const now = this._find(before.id);
      if (before.active && now && !now.active) {
        this._ended.emit(now);
      }
    }
  }

  /** Open logs grow while their operation runs, and once more when it has ended. */
  private _reloadOpenLogs(): void {
    for (const id of this._logs.keys()) {
      if (!this._logFinal.has(id) && !this._logs.get(id)?.loading) {
        void this.loadLog(id);
      }
    }
  }

  /** Drop the log and cancel states of operations no longer listed. */
  private _forgetGone(): void {
    const ids = new Set(this._operations.map(op => op.id));
    for (const map of [this._logs, this._cancels, this._logSeq]) {
      for (const id of Array.from(map.keys())) {
        if (!ids.has(id)) {
          map.delete(id);
        }
      }
    }
    for (const id of Array.from(this._logFinal)) {
      if (!ids.has(id)) {
        this._logFinal.delete(id);
      }
    }
  }

  private _find(id: number): IOperation | undefined {
    return this._operations.find(op => op.id === id);
  }

  private _ended = new Signal<this, IOperation>(this);
  private _operations: IOperation[] = [];
  private _loaded = false;
  private _error: string | null = null;
  private _seq = 0;
  private _logs = new Map<number, ILogState>();
  private _logSeq = new Map<number, number>();
  private _logFinal = new Set<number>();
  private _cancels = new Map<number, ICancelState>();
}

function sortNewestFirst(operations: IOperation[]): IOperation[] {
  return operations.sort((a, b) => b.id - a.id);
}
