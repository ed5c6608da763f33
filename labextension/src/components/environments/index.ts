export { EnvironmentsModel } from './model';
export { EnvironmentsSection } from './EnvironmentsSection';
