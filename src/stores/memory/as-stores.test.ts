import { describeAuthorizationServerStoresConformance } from '../conformance/as-stores.conformance.js';
import { createMemoryAuthorizationServerStores } from './as-stores.js';

describeAuthorizationServerStoresConformance('memory', () => createMemoryAuthorizationServerStores());
