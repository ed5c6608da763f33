/**
 * State of the Images section: the serving images built by packaging, each
 * with its build report, and which one's report is open. Reloaded when a
 * build ends (a "build" operation) and when the section is opened.
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

  isReportOpen(id: number): boolean {
    return this._open.has(id);
  }

  toggleReport(id: number): void {
    if (!this._open.delete(id)) {
      this._open.add(id);
    }
    this.emit();
  }

  protected fetch(): Promise<IImageList> {
    return this.client.listImages();
  }

  private _open = new Set<number>();
}
