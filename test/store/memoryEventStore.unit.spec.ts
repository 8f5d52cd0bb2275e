import { describe, expect, it } from 'vitest';
import { createMemoryEventStore } from '../../src/store/memory/memoryEventStore.js';
import { InvalidStoreRequestError } from '../../src/store/memory/requestChecks.js';
import { EventTooLargeError, StoreUnavailableError } from '../../src/store/eventStore.js';
import { describeEventStoreContract } from '../contract/eventStoreContract.js';
import { newEvent } from '../contract/contractFixtures.js';

describeEventStoreContract('memory', async () => {
  const store = createMemoryEventStore();
  return { store, dispose: () => store.close() };
});

describe('memory event store specifics', () => {
  it('honours a smaller maxEventBytes', async () => {
    const store = createMemoryEventStore({ maxEventBytes: 200 });
    await expect(store.append('s', [newEvent({ data: { text: 'x'.repeat(200) } })], 'any')).rejects.toBeInstanceOf(EventTooLargeError);
    await store.close();
  });

  it('freezes stored events so callers cannot rewrite history', async () => {
    const store = createMemoryEventStore();
    const event = newEvent({ data: { nested: { value: 1 } } });
    const { events } = await store.append('s', [event], 'any');
    (event.data as { nested: { value: number } }).nested.value = 2;
    const [stored] = await store.readStream('s');
    expect(stored!.data).toEqual({ nested: { value: 1 } });
    expect(() => {
      (events[0]!.record.data as { nested: { value: number } }).nested.value = 3;
    }).toThrow(TypeError);
    await store.close();
  });

  it('rejects bad requests with a typed error and changes nothing', async () => {
    const store = createMemoryEventStore();
    await expect(store.append('', [newEvent()], 'any')).rejects.toBeInstanceOf(InvalidStoreRequestError);
    await expect(store.append('s', [newEvent()], -2)).rejects.toBeInstanceOf(InvalidStoreRequestError);
    await expect(store.append('s', [newEvent({ data: { text: 'nul \u0000' } })], 'any')).rejects.toMatchObject({ code: 'invalid_store_request' });
    await expect(store.readStream('s', { maxCount: -1 })).rejects.toBeInstanceOf(InvalidStoreRequestError);
    await expect(store.readAll({ after: -1n })).rejects.toBeInstanceOf(InvalidStoreRequestError);
    expect(() => store.subscribe({ after: 0n, batchSize: 0, onEvents: async () => {} })).toThrow(InvalidStoreRequestError);
    expect(await store.headPosition()).toBe(0n);
    await store.close();
  });

  it('accepts a literal backslash-u0000 text, which is not a NUL character', async () => {
    const store = createMemoryEventStore();
    await store.append('s', [newEvent({ data: { text: '\\u0000' } })], 'any');
    expect((await store.readStream('s'))[0]!.data).toEqual({ text: '\\u0000' });
    await store.close();
  });

  it('refuses work once closed', async () => {
    const store = createMemoryEventStore();
    await store.close();
    await expect(store.headPosition()).rejects.toBeInstanceOf(StoreUnavailableError);
  });
});
