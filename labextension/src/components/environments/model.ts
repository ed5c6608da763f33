/**
 * State of the Environments section: the locked environments (pip
 * requirements, Python version and base image, identified by the hash of
 * their lock), and which one's lock is open. Reloaded when the section is
 * opened and when a deploy or build ends (either may lock one).
 */
import type { IEnvironment, IEnvironmentList, IModelHubClient } from '../../api';
import { ListSection } from '../../section';

export class EnvironmentsModel extends ListSection<IEnvironmentList> {
  constructor(client: Pick<IModelHubClient, 'listEnvironments'>) {
    super(false);
    this.client = client;
  }

  readonly client: Pick<IModelHubClient, 'listEnvironments'>;

  get environments(): readonly IEnvironment[] {
    return this.data?.environments ?? [];
  }

  isLockOpen(ref: string): boolean {
    return this._open.has(ref);
  }

  toggleLock(ref: string): void {
    if (!this._open.delete(ref)) {
      this._open.add(ref);
    }
    this.emit();
  }

  protected fetch(): Promise<IEnvironmentList> {
    return this.client.listEnvironments();
  }

  private _open = new Set<string>();
}
