export { CompareView } from './CompareView';
export { ModelsModel } from './model';
export { ModelsSection } from './ModelsSection';
export { VersionDetail } from './VersionDetail';
export { ACTION_LABELS, actionName, isAllowed, startAction } from './actions';
