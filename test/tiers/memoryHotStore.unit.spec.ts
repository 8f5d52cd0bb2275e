import { createMemoryHotStore } from '../../src/tiers/memoryHotStore.js';
import { describeHotStoreContract } from '../contract/hotStoreContract.js';

describeHotStoreContract('memory', async () => ({ hot: createMemoryHotStore(), dispose: async () => {} }));
