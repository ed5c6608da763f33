export { BatchModel } from './model';
export { BatchSection } from './BatchSection';
export { JobPage } from './JobPage';
