export { DeploymentDetail } from './DeploymentDetail';
export { EndpointsModel } from './model';
export { EndpointsSection } from './EndpointsSection';
export { EndpointPage } from './EndpointPage';
