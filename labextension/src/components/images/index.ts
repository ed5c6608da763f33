export { ImagesModel } from './model';
export { ImagesSection } from './ImagesSection';
export { ImagePage } from './ImagePage';
