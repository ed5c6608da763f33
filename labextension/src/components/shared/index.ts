export { ActionButton } from './ActionButton';
export { Chips } from './Chips';
export { CopyButton } from './CopyButton';
export { ErrorRetry } from './ErrorRetry';
export { Section } from './Section';
export { StateBadge } from './StateBadge';
export { TableHead } from './TableHead';
export { useScrollIntoView } from './useScrollIntoView';
