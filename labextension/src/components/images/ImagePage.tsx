/**
 * An image's main-area page: its name, tag, digest and size, the version it
 * serves and its environment, how to run it, the build report with every
 * column (steps, cached or not and why, layer sizes, the build's time), and
 * where it was pushed (with the push field).
 */
import * as React from 'react';

import { absoluteTime, formatSize } from '../../format';
import type { ModelHubModel } from '../../model';
import { CopyButton, ErrorRetry, VersionLink } from '../shared';
import { BuildReport, IReport } from './BuildReport';
import { ImagePushes } from './ImagePushes';

export function ImagePage(props: { hub: ModelHubModel; id: number; tag: string }): React.ReactElement {
  const { hub, id } = props;
  const images = hub.images;
  const image = images.images.find(i => i.id === id);
  if (!image) {
    return (
      <div className="jp-ModelHub-detail jp-ModelHub-imagePage">
        {images.error ? (
          <ErrorRetry message={images.error} label={`Retry loading image ${props.tag}`} onRetry={() => void images.reload()} />
        ) : images.loaded ? (
          <p className="jp-ModelHub-note" role="status">
            The image {props.tag} is no longer in the registry (it was deleted). Close this tab.
          </p>
        ) : (
          <div className="jp-ModelHub-loading" role="status">
            Loading image {props.tag}…
          </div>
        )}
      </div>
    );
  }
  const [name, tag] = splitTag(image.tag);
  const report = image.report as IReport;
  const run = `docker run --rm -p 127.0.0.1:8080:8080 ${image.tag}`;
  return (
    <div className="jp-ModelHub-detail jp-ModelHub-imagePage" data-image={image.id}>
      <header className="jp-ModelHub-detailHeader">
        <h1 className="jp-ModelHub-detailTitle">{image.tag}</h1>
      </header>
      <p className="jp-ModelHub-detailMeta">
        Built {absoluteTime(image.built_time)}
        {image.created_by ? ` by ${image.created_by}` : ''}, {formatSize(image.size)}.
      </p>
      <section aria-label="Image" className="jp-ModelHub-detailSection">
        <h2>Image</h2>
        <dl className="jp-ModelHub-facts" aria-label={`Facts of ${image.tag}`}>
          <dt>Name</dt>
          <dd>{name}</dd>
          <dt>Tag</dt>
          <dd>{tag}</dd>
          <dt>Image id (digest)</dt>
          <dd>
            <code className="jp-ModelHub-imageDigest" title={image.image_id}>
              {image.image_id}
            </code>
            <CopyButton text={image.image_id} label={`Copy the image id of ${image.tag}`} />
          </dd>
          <dt>Size</dt>
          <dd>{formatSize(image.size)}</dd>
          <dt>Serves</dt>
          <dd>
            <VersionLink reference={image.ref} />
          </dd>
          <dt>Environment</dt>
          <dd title={image.environment_hash}>
            {image.environment}
            {report.environment_image ? ` (${report.environment_image})` : ''}
          </dd>
          <dt>Run it</dt>
          <dd>
            <code>{run}</code>
            <CopyButton text={run} label={`Copy the command that runs ${image.tag}`} />
          </dd>
        </dl>
      </section>
      <section aria-label="Build report" className="jp-ModelHub-detailSection">
        <h2>Build report</h2>
        <div className="jp-ModelHub-tableScroll">
          <BuildReport image={image} />
        </div>
      </section>
      <section aria-label="Pushes" className="jp-ModelHub-detailSection">
        <h2>Pushed to</h2>
        <ImagePushes images={images} image={image} />
      </section>
    </div>
  );
}

/** "modelhub/churn:2" -> ["modelhub/churn", "2"]; a registry's port is not a tag. */
function splitTag(reference: string): [string, string] {
  const slash = reference.lastIndexOf('/');
  const colon = reference.lastIndexOf(':');
  return colon > slash ? [reference.slice(0, colon), reference.slice(colon + 1)] : [reference, 'latest'];
}
