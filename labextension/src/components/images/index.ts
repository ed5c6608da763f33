export { ImagesModel } from './model';
export { ImagesSection } from './ImagesSection';
