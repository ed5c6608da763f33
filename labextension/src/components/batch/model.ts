/**
 * State of the Batch section: the batch endpoints, the newest batch jobs,
 * and for each job whose table is open its per-mini-batch table; for each
 * job whose main-area page is open (`watchJob`), the job in full. The panel's
 * poll reloads it when an operation changes while it is open (a job is an
 * operation of kind "batch") and on every round while a job is active.
 */
import type { IBatchEndpoint, IJob, IMiniBatch, IModelHubClient } from '../../api';
import { messageOf } from '../../errors';
import { ListSection } from '../../section';

/** How many of the newest jobs are listed. */
export const RECENT_JOBS = 10;

export type IBatchClient = Pick<IModelHubClient, 'listBatchEndpoints' | 'listJobs' | 'getJob'>;

export interface IBatchListing {
  endpoints: IBatchEndpoint[];
  jobs: IJob[];
}

export class BatchModel extends ListSection<IBatchListing> {
  constructor(client: IBatchClient) {
    super(false);
    this.client = client;
  }

  readonly client: IBatchClient;

  get endpoints(): readonly IBatchEndpoint[] {
    return this.data?.endpoints ?? [];
  }

  get jobs(): readonly IJob[] {
    return this.data?.jobs ?? [];
  }

  get activeCount(): number {
    return this.jobs.filter(job => job.active).length;
  }

  /** The job with its mini-batch table, once loaded (its table is open). */
  detail(id: number): { job: IJob | null; error: string | null } | undefined {
    return this._details.get(id);
  }

  toggleTable(id: number): void {
    if (this._details.delete(id)) {
      this.emit();
      return;
    }
    this._details.set(id, { job: null, error: null });
    this.emit();
    void this._loadDetail(id);
  }

  /** A job's main-area page: the job with its mini-batch table, once loaded. */
  page(id: number): { job: IJob | null; error: string | null } | undefined {
    return this._pages.get(id);
  }

  /** A job's page opened: load the job (again on every reload until it closes). */
  watchJob(id: number): void {
    this._watchers.set(id, (this._watchers.get(id) ?? 0) + 1);
    if (!this._pages.has(id)) {
      this._pages.set(id, { job: null, error: null });
    }
    void this._loadDetail(id, this._pages);
  }

  unwatchJob(id: number): void {
    const count = (this._watchers.get(id) ?? 1) - 1;
    if (count > 0) {
      this._watchers.set(id, count);
      return;
    }
    this._watchers.delete(id);
    this._pages.delete(id);
  }

  async reload(): Promise<boolean> {
    const changed = await super.reload();
    await Promise.all([
      ...Array.from(this._details.keys()).map(id => this._loadDetail(id)),
      ...Array.from(this._pages.keys()).map(id => this._loadDetail(id, this._pages))
    ]);
    return changed;
  }

  protected async fetch(): Promise<IBatchListing> {
    const [endpoints, jobs] = await Promise.all([
      this.client.listBatchEndpoints(),
      this.client.listJobs(RECENT_JOBS)
    ]);
    return { endpoints: endpoints.batch_endpoints, jobs: jobs.jobs };
  }

  private async _loadDetail(id: number, into = this._details): Promise<void> {
    let next: { job: IJob | null; error: string | null };
    try {
      next = { job: await this.client.getJob(id), error: null };
    } catch (error) {
      next = { job: into.get(id)?.job ?? null, error: messageOf(error) };
    }
    if (this.isDisposed || !into.has(id)) {
      return;
    }
    if (JSON.stringify(into.get(id)) !== JSON.stringify(next)) {
      into.set(id, next);
      this.emit();
    }
  }

  private _details = new Map<number, { job: IJob | null; error: string | null }>();
  private _pages = new Map<number, { job: IJob | null; error: string | null }>();
  private _watchers = new Map<number, number>();
}

/** What went wrong in a mini-batch, as the notebook's "error" column says it: its error, else each failed file's. */
export function rowError(row: IMiniBatch): string {
  if (row.error) {
    return row.error;
  }
  return (row.failed_files ?? []).map(f => `${f.file.split('/').pop()}: ${f.error}`).join('; ');
}

/** The notebook's "why tried again" column: each retry's reason, or why it was not retried. */
export function triedAgain(row: IMiniBatch): string {
  return (row.retries ?? []).join('; ') || row.not_retried || '';
}

/** The sidebar's one "why" column: what went wrong, else why it was tried again. */
export function whyText(row: IMiniBatch): string {
  const error = rowError(row);
  const again = triedAgain(row);
  return error && again ? `${error} (tried again: ${again})` : error || (again ? `tried again: ${again}` : '');
}
