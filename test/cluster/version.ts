// placeholder until the cluster branch lands
export const TEMPORAL_SERVER_VERSION = 'v1.30.4';
