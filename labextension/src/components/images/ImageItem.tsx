/** One image: tag, size, the version it serves, when it was built, whether it was pushed; its
 * build report and its pushes (with a Push field) on demand. */
import * as React from 'react';

import { RelativeTime, VersionLink } from '../shared';

import type { IImage } from '../../api';
import { formatSize } from '../../format';
import { useOpener } from '../../opener';
import { BuildReport } from './BuildReport';
import { ImagePushes } from './ImagePushes';
import { ImagesModel } from './model';

export function ImageItem(props: { images: ImagesModel; image: IImage }): React.ReactElement {
  const { images, image } = props;
  const opener = useOpener();
  const open = images.isOpen(image.id);
  return (
    <li className="jp-ModelHub-image" data-image={image.id} data-tag={image.tag}>
      <div className="jp-ModelHub-imageHeader">
        <code className="jp-ModelHub-imageTag" title={image.tag}>
          {image.tag}
        </code>
        <span className="jp-ModelHub-imageSize">{formatSize(image.size)}</span>
        {image.pushes?.[0] && (
          <span className="jp-ModelHub-imagePushed" title={image.pushes[0].pinned}>
            pushed
          </span>
        )}
      </div>
      <div className="jp-ModelHub-versionMeta">
        <VersionLink reference={image.ref} />
        <span title={image.environment_hash}>env {image.environment}</span>
        <RelativeTime iso={image.built_time} />
        <button
          type="button"
          className="jp-ModelHub-link jp-ModelHub-reportToggle"
          aria-expanded={open}
          aria-label={`${open ? 'Hide' : 'Show'} the build report of ${image.tag}`}
          onClick={() => images.toggleOpen(image.id)}
        >
          {open ? 'hide details' : 'build report, push'}
        </button>
        <button
          type="button"
          className="jp-ModelHub-link jp-ModelHub-openImage"
          aria-label={`Open the page of image ${image.tag}`}
          onClick={() => opener.openImage(image.id, image.tag)}
        >
          image page
        </button>
      </div>
      {open && <BuildReport image={image} compact />}
      {open && <ImagePushes images={images} image={image} />}
    </li>
  );
}
