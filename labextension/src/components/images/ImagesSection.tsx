/** The Images section: serving images built by packaging. */
import * as React from 'react';

import { UseSignal } from '@jupyterlab/ui-components';

import { Section } from '../shared';
import { ImageItem } from './ImageItem';
import { ImagesModel } from './model';

export const ImagesSection = React.memo(function ImagesSection(props: {
  images: ImagesModel;
}): React.ReactElement {
  const { images } = props;
  return (
    <UseSignal signal={images.changed}>
      {() => (
        <Section
          title="Images"
          badge={images.loaded ? `(${images.images.length})` : undefined}
          className="jp-ModelHub-images"
          expanded={images.expanded}
          onToggle={() => images.toggle()}
          error={images.error}
          onRetry={() => void images.reload()}
          loading={!images.loaded}
          empty={
            images.loaded && images.images.length === 0 ? (
              <>
                No images. Package a version from a notebook: <code>%package NAME:VERSION</code>
              </>
            ) : undefined
          }
        >
          <ul className="jp-ModelHub-imageList" aria-label="Images">
            {images.images.map(image => (
              <ImageItem key={image.id} images={images} image={image} />
            ))}
          </ul>
        </Section>
      )}
    </UseSignal>
  );
});
