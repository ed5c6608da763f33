/**
 * Operations (long work on the server) as the panel sees them: following one
 * until it ends, and how its progress and outcome read. No JupyterLab
 * imports, so this is unit-tested in plain Node.
 *
 * Not here: which operations are listed and when (components/activity/model.ts).
 */
import type { IModelHubClient, IOperation } from './api';
import { ModelHubError } from './errors';

/** How often a followed operation is asked for (ms). */
export const FOLLOW_INTERVAL = 500;

/** Longest wait between two asks while the server cannot be reached (ms). */
const MAX_FOLLOW_BACKOFF = 10000;

export interface IFollowOptions {
  /** Called with every new state of the operation. */
  onUpdate?: (operation: IOperation) => void;
  /** Checked before every ask: true ends the following (the answer is then null). */
  stopped?: () => boolean;
  interval?: number;
}

/**
 * Ask for `operation` every FOLLOW_INTERVAL ms until it is no longer active,
 * and answer with its final state (null when `stopped`). A server that cannot
 * be reached or fails (5xx) is asked again later: the work goes on there, so
 * no timeout here ends the wait. A refusal (4xx, say an unknown operation)
 * is thrown.
 */
export async function followOperation(
  client: Pick<IModelHubClient, 'getOperation'>,
  operation: IOperation,
  options: IFollowOptions = {}
): Promise<IOperation | null> {
  const interval = options.interval ?? FOLLOW_INTERVAL;
  let current = operation;
  let failures = 0;
  while (current.active) {
    await delay(
      Math.min(interval * 2 ** Math.min(failures, 5), MAX_FOLLOW_BACKOFF)
    );
    if (options.stopped?.()) {
      return null;
    }
    if (typeof document !== 'undefined' && document.hidden) {
      continue; // the browser tab is in the background: ask when it is back
    }
    try {
      current = await client.getOperation(operation.id);
      failures = 0;
    } catch (error) {
      if (error instanceof ModelHubError && error.isClientError) {
        throw error;
      }
      failures++;
      continue;
    }
    if (options.stopped?.()) {
      return null;
    }
    options.onUpdate?.(current);
  }
  return current;
}

/** A progress bar's values: `value` is null when the total is unknown. */
export interface IProgressView {
  value: number | null;
  max: number | null;
  /** "2 of 5 steps", or '' when the total is unknown. */
  amount: string;
  message: string;
}

export function progressView(operation: IOperation): IProgressView {
  const progress = operation.progress ?? {
    done: 0,
    total: null,
    unit: '',
    message: ''
  };
  const message = progress.message ?? '';
  const total = progress.total;
  if (typeof total !== 'number' || !isFinite(total) || total <= 0) {
    return { value: null, max: null, amount: '', message };
  }
  const done = Math.max(0, Math.min(progress.done ?? 0, total));
  const unit = progress.unit ? ` ${unitFor(progress.unit, total)}` : '';
  return { value: done, max: total, amount: `${done} of ${total}${unit}`, message };
}

/** A unit the server names in the plural, for `count` of it: "1 file", "5 files". */
export function unitFor(unit: string, count: number): string {
  return count === 1 && unit.length > 1 && unit.endsWith('s') && !unit.endsWith('ss') ? unit.slice(0, -1) : unit;
}

/** "1st", "2nd", "3rd", "11th", "22nd". */
export function ordinal(n: number): string {
  const tens = n % 100;
  if (tens >= 11 && tens <= 13) {
    return `${n}th`;
  }
  return n + (['th', 'st', 'nd', 'rd'][n % 10] ?? 'th');
}

/**
 * Where a queued operation waits: "2nd in line", "waiting for a free worker";
 * '' when not queued. Not the word "queued": its status badge says that
 * beside it already ("queued queued").
 */
export function queueLabel(operation: IOperation): string {
  if (operation.status !== 'queued') {
    return '';
  }
  const position = operation.queue_position;
  return typeof position === 'number' && position > 0
    ? `${ordinal(position)} in line`
    : 'waiting for a free worker';
}

/** Why an operation did not succeed, in the server's words when it gave them. */
export function failureMessage(operation: IOperation): string {
  if (operation.error?.message) {
    return operation.error.message;
  }
  if (operation.status === 'cancelled') {
    return `Operation ${operation.id} was cancelled.`;
  }
  return `Operation ${operation.id} ended ${operation.status}.`;
}

/** The text of a link to an operation's result: "churn:2", "churn-ep"; '' without one. */
export function linkLabel(operation: IOperation): string {
  const link = operation.link;
  if (!link) {
    return '';
  }
  if (link.type === 'version') {
    return link.ref || `${link.model}:${link.version}`;
  }
  if (link.type === 'endpoint') {
    return link.name;
  }
  return '';
}

function delay(ms: number): Promise<void> {
  return new Promise(resolve => setTimeout(resolve, ms));
}
