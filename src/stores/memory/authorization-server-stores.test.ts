import { describeAuthorizationServerStoresConformance } from '../conformance/authorization-server-stores.conformance.js';
import { createMemoryAuthorizationServerStores } from './authorization-server-stores.js';

describeAuthorizationServerStoresConformance('memory', () => createMemoryAuthorizationServerStores());
