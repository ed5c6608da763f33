/**
 * State of the Images section: the serving images built by packaging, each
 * with its build report (`isOpen(id)`: its report is shown) and where it was
 * pushed. Reloaded when a build or a push ends (an "image_build" or
 * "image_push" operation) and when the section is opened.
 *
 * `push(image, reference)` pushes an image to a registry from the panel: it
 * starts the push operation, follows it (`pushState(id)` has its progress,
 * then its outcome or the server's one-line error), and reloads the listing
 * so the pushed reference and its digest show.
 */
import type { IImage, IImageList, IModelHubClient, IOperation } from '../../api';
import { messageOf } from '../../errors';
import { failureMessage, followOperation } from '../../operations';
import { ListSection } from '../../section';

/** A push started here: running (with its operation), or how it ended. */
export interface IPushState {
  busy: boolean;
  operation: IOperation | null;
  message: string | null;
  error: boolean;
}

export class ImagesModel extends ListSection<IImageList> {
  constructor(client: Pick<IModelHubClient, 'listImages' | 'pushImage' | 'getOperation'>) {
    super(false);
    this.client = client;
  }

  readonly client: Pick<IModelHubClient, 'listImages' | 'pushImage' | 'getOperation'>;

  /** Called with every state of a push started here (the panel notifies when it ends). */
  onOperation: (operation: IOperation) => void = () => undefined;

  get images(): readonly IImage[] {
    return this.data?.images ?? [];
  }

  pushState(id: number): IPushState | undefined {
    return this._pushes.get(id);
  }

  /** Push `image` to `reference` (REGISTRY/REPO[:TAG]); the server checks the reference. */
  async push(image: IImage, reference: string): Promise<void> {
    const id = image.id;
    if (this.isDisposed || this._pushes.get(id)?.busy) {
      return;
    }
    this._set(id, { busy: true, operation: null, message: null, error: false });
    let state: IPushState;
    try {
      const started = await this.client.pushImage(id, reference.trim());
      this._set(id, { busy: true, operation: started, message: null, error: false });
      this.onOperation(started);
      const ended = await followOperation(this.client, started, {
        stopped: () => this.isDisposed,
        onUpdate: operation => {
          this.onOperation(operation);
          this._set(id, { busy: true, operation, message: null, error: false });
        }
      });
      if (ended === null) {
        return; // disposed while following
      }
      if (ended.status !== 'succeeded') {
        throw new Error(failureMessage(ended));
      }
      const pushed = (ended.result as unknown as IImage | null)?.pushes?.[0];
      state = {
        busy: false,
        operation: null,
        message: pushed ? `Pushed ${pushed.reference} (${pushed.digest.slice(0, 19)}…)` : 'Pushed.',
        error: false
      };
    } catch (error) {
      state = { busy: false, operation: null, message: messageOf(error), error: true };
    }
    if (this.isDisposed) {
      return;
    }
    this._set(id, state);
    if (!state.error) {
      await this.reload();
    }
  }

  dismissPush(id: number): void {
    if (this._pushes.delete(id)) {
      this.emit();
    }
  }

  protected fetch(): Promise<IImageList> {
    return this.client.listImages();
  }

  private _set(id: number, state: IPushState): void {
    this._pushes.set(id, state);
    this.emit();
  }

  private _pushes = new Map<number, IPushState>();
}
