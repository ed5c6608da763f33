/**
 * One clock for every relative time in the panel ("2 minutes ago").
 *
 * Each section used to read `Date.now()` when it re-rendered, so a build shown
 * in two sections could be "just now" in one and "2 minutes ago" in the other.
 * Here one timer advances one `now` and every time shown is recomputed from it
 * on the same tick, so the sections always agree.
 */
import { ISignal, Signal } from '@lumino/signaling';

/** How often relative times are recomputed (ms): the coarsest unit shown is a minute. */
export const TICK = 15000;

export class Clock {
  /** The time every relative time is computed from (ms since the epoch). */
  get now(): number {
    return this._now;
  }

  /** Emitted on each tick (while anything listens). */
  get ticked(): ISignal<this, number> {
    return this._ticked;
  }

  /** Start ticking when the first time is shown; stop when none is. */
  retain(): () => void {
    if (this._users++ === 0) {
      this._now = Date.now();
      this._timer = setInterval(() => {
        this._now = Date.now();
        this._ticked.emit(this._now);
      }, TICK);
    }
    return () => {
      if (--this._users === 0 && this._timer !== null) {
        clearInterval(this._timer);
        this._timer = null;
      }
    };
  }

  private _now = Date.now();
  private _users = 0;
  private _timer: ReturnType<typeof setInterval> | null = null;
  private _ticked = new Signal<this, number>(this);
}

/** The panel's clock. */
export const clock = new Clock();
