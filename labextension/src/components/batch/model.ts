/**
 * State of the Batch section: the batch endpoints, the newest batch jobs,
 * and for each job whose table is open its per-mini-batch table. The panel's
 * poll reloads it when an operation changes while it is open (a job is an
 * operation of kind "batch") and on every round while a job is active.
 */
import type { IBatchEndpoint, IJob, IModelHubClient } from '../../api';
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

  async reload(): Promise<boolean> {
    const changed = await super.reload();
    await Promise.all(Array.from(this._details.keys()).map(id => this._loadDetail(id)));
    return changed;
  }

  protected async fetch(): Promise<IBatchListing> {
    const [endpoints, jobs] = await Promise.all([
      this.client.listBatchEndpoints(),
      this.client.listJobs(RECENT_JOBS)
    ]);
    return { endpoints: endpoints.batch_endpoints, jobs: jobs.jobs };
  }

  private async _loadDetail(id: number): Promise<void> {
    let next: { job: IJob | null; error: string | null };
    try {
      next = { job: await this.client.getJob(id), error: null };
    } catch (error) {
      next = { job: this._details.get(id)?.job ?? null, error: messageOf(error) };
    }
    if (this.isDisposed || !this._details.has(id)) {
      return;
    }
    if (JSON.stringify(this._details.get(id)) !== JSON.stringify(next)) {
      this._details.set(id, next);
      this.emit();
    }
  }

  private _details = new Map<number, { job: IJob | null; error: string | null }>();
}
