/**
 * What every section of the panel shares: its own `changed` signal (so a
 * change re-renders that section only), whether it is open, and for a section
 * that shows one listing (endpoints, images, environments) the loading of it:
 * a response overtaken by a newer request is dropped, an unchanged answer
 * causes no re-render, a failure keeps what was shown and says why.
 *
 * No JupyterLab imports, so the sections' state is unit-tested in plain Node.
 */
import { ISignal, Signal } from '@lumino/signaling';

import { messageOf } from './errors';

export class SectionModel {
  /** Emitted whenever anything this section shows changes. */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /** Whether the section is open. */
  get expanded(): boolean {
    return this._expanded;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  toggle(): void {
    this._expanded = !this._expanded;
    this.emit();
    if (this._expanded) {
      this.onOpened();
    }
  }

  /** Open the section (a link led to it). */
  open(): void {
    if (!this._expanded) {
      this.toggle();
    }
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    Signal.clearData(this);
  }

  /** Called when the section is opened: a listing reloads. */
  protected onOpened(): void {
    // nothing by default
  }

  protected emit(): void {
    if (!this._isDisposed) {
      this._changed.emit();
    }
  }

  protected constructor(expanded = true) {
    this._expanded = expanded;
  }

  private _changed = new Signal<this, void>(this);
  private _expanded: boolean;
  private _isDisposed = false;
}

/** A section that shows one listing from the server. */
export abstract class ListSection<T> extends SectionModel {
  /** The last listing received; null before the first. */
  get data(): T | null {
    return this._data;
  }

  /** True once the listing has been received at least once. */
  get loaded(): boolean {
    return this._data !== null;
  }

  /** The last load failed: a readable message (what was shown stays). */
  get error(): string | null {
    return this._error;
  }

  /** When the listing was last received (ms since the epoch), 0 before. */
  get loadedAt(): number {
    return this._loadedAt;
  }

  /** (Re)load the listing; resolves true when what is shown changed. */
  async reload(): Promise<boolean> {
    if (this.isDisposed) {
      return false;
    }
    const seq = ++this._seq;
    let data: T | null = null;
    let error: string | null = null;
    try {
      data = await this.fetch();
    } catch (reason) {
      error = messageOf(reason);
    }
    if (this.isDisposed || seq !== this._seq) {
      return false;
    }
    let changed = error !== this._error;
    this._error = error;
    if (data !== null) {
      this._loadedAt = Date.now();
      if (JSON.stringify(data) !== JSON.stringify(this._data)) {
        this._data = data;
        changed = true;
      }
    }
    if (changed) {
      this.emit();
    }
    return changed;
  }

  /** Whether the item `key` shows its details (an image's build report, an environment's lock). */
  isOpen(key: string | number): boolean {
    return this._open.has(key);
  }

  toggleOpen(key: string | number): void {
    if (!this._open.delete(key)) {
      this._open.add(key);
    }
    this.emit();
  }

  protected onOpened(): void {
    void this.reload();
  }

  protected abstract fetch(): Promise<T>;

  private _open = new Set<string | number>();
  private _data: T | null = null;
  private _error: string | null = null;
  private _seq = 0;
  private _loadedAt = 0;
}
