/**
 * The "Traffic over time" section's state: the endpoint's history as the
 * server recorded it (`GET endpoints/{name}/metrics/history`) over the range
 * picked, read again every 10 s (longer ranges: less often) while the page is shown, with its
 * own signal so a read re-renders the charts only. The page owns one while it
 * is open and disposes of it when it closes.
 *
 * Not here: the figures (the server sums and interpolates them per step);
 * drawing them (TrafficCharts, metrics.ts).
 */
import { Poll } from '@lumino/polling';
import { ISignal, Signal } from '@lumino/signaling';

import type { IModelHubClient, ITrafficHistory } from '../../api';
import { messageOf } from '../../errors';
import type { HistoryRange } from '../../metrics';

/** How often the history is read while shown (ms); the server reads endpoints every 10 s by default. */
export const HISTORY_INTERVAL = 10_000;

/**
 * The interval of the poll for a range whose points are `step` seconds apart:
 * every 10 s for the hour (30 s points), less often for longer ranges, whose
 * points change slowly and cost the server more to sum (at most every minute).
 */
export function historyInterval(step: number): number {
  return Math.min(6 * HISTORY_INTERVAL, Math.max(HISTORY_INTERVAL, (step * 1000) / 3));
}

export class TrafficHistoryModel {
  constructor(client: Pick<IModelHubClient, 'endpointMetricsHistory'>, endpoint: string) {
    this._client = client;
    this.endpoint = endpoint;
    this._poll = new Poll({
      factory: () => this.load(),
      frequency: { interval: HISTORY_INTERVAL, backoff: true, max: 12 * HISTORY_INTERVAL },
      standby: 'when-hidden',
      name: `jupyter-modelhub:history:${endpoint}`
    });
  }

  readonly endpoint: string;

  get changed(): ISignal<this, void> {
    return this._changed;
  }

  get range(): HistoryRange {
    return this._range;
  }

  /** The last answer for the current range; null until it came. */
  get data(): ITrafficHistory | null {
    return this._data;
  }

  get error(): string | null {
    return this._error;
  }

  get loading(): boolean {
    return this._loading;
  }

  /** Show another range: read at once (an answer for the range before is dropped). */
  setRange(range: HistoryRange): void {
    if (range === this._range) {
      return;
    }
    this._range = range;
    this._data = null;
    this._changed.emit();
    void this._poll.refresh();
  }

  /** One read; a failure is kept to show (and rethrown, so the poll backs off). */
  async load(): Promise<void> {
    const range = this._range;
    this._loading = true;
    try {
      const data = await this._client.endpointMetricsHistory(this.endpoint, range);
      if (this._disposed || range !== this._range) {
        return;
      }
      this._data = data;
      this._error = null;
      this._poll.frequency = { ...this._poll.frequency, interval: historyInterval(data.step_s) };
    } catch (error) {
      if (this._disposed || range !== this._range) {
        return;
      }
      this._error = messageOf(error);
      throw error;
    } finally {
      this._loading = false;
      if (!this._disposed) {
        this._changed.emit();
      }
    }
  }

  dispose(): void {
    if (this._disposed) {
      return;
    }
    this._disposed = true;
    this._poll.dispose();
    Signal.clearData(this);
  }

  private _client: Pick<IModelHubClient, 'endpointMetricsHistory'>;
  private _poll: Poll;
  private _range: HistoryRange = '1h';
  private _data: ITrafficHistory | null = null;
  private _error: string | null = null;
  private _loading = false;
  private _disposed = false;
  private _changed = new Signal<this, void>(this);
}
