/**
 * State of the Images section: the serving images built by packaging, each
 * with its build report (`isOpen(id)`: its report is shown). Reloaded when a
 * build ends (an "image_build" operation) and when the section is opened.
 */
import type { IImage, IImageList, IModelHubClient } from '../../api';
import { ListSection } from '../../section';

export class ImagesModel extends ListSection<IImageList> {
  constructor(client: Pick<IModelHubClient, 'listImages'>) {
    super(false);
    this.client = client;
  }

  readonly client: Pick<IModelHubClient, 'listImages'>;

  get images(): readonly IImage[] {
    return this.data?.images ?? [];
  }

  protected fetch(): Promise<IImageList> {
    return this.client.listImages();
  }
}
