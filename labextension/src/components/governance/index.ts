export { AliasRows } from './AliasRows';
export { ChangeBanner } from './ChangeBanner';
export { HistoryTimeline } from './HistoryTimeline';
export { GovernanceModel, subjectKey } from './model';
export { PermissionsView } from './PermissionsView';
export { PromotionChecks } from './PromotionChecks';
