export { ActivitySection } from './ActivitySection';
export { ActivityModel } from './model';
export { ProgressBar } from './ProgressBar';
