export { BatchModel } from './model';
export { BatchSection } from './BatchSection';
