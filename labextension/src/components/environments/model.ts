/**
 * State of the Environments section: the locked environments (pip
 * requirements, Python version and base image, identified by the hash of
 * their lock; `isOpen(ref)`: its lock is shown). Reloaded when the section is
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

  protected fetch(): Promise<IEnvironmentList> {
    return this.client.listEnvironments();
  }
}
