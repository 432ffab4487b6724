import { describeAuthorizationServerStoresConformance } from '../as-stores.conformance.js';
import { createMemoryAuthorizationServerStores } from './as-stores.js';

describeAuthorizationServerStoresConformance('memory', () => createMemoryAuthorizationServerStores());
