import { describe, expect, it } from 'vitest';
import { endpointHarness } from './endpoint-harness.js';

const note = (i: number) => JSON.stringify({ kind: 1, content: `in flight ${i}`, tags: [], created_at: 1 });

// RELIABILITY.md G10: "Requests pending at the crash get an answer or an error after restart,
// never silence past 30 s." The process "dies" with signing rounds open; the next one answers.
describe('requests in flight when the coordinator stops', () => {
  it('are answered with an error by the restarted coordinator, each exactly once', async () => {
    const h = await endpointHarness();
    const client = h.client();
    await h.connectWithToken(client, 'sign_event:1');
    await h.endpoint.handleEvent(client.request('sign_event', [note(0)])); // answered normally
    h.holdSigning();
    for (let i = 1; i <= 3; i++) void h.endpoint.handleEvent(client.request('sign_event', [note(i)]));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(client.replies()).toHaveLength(2); // connect ack + the first signature; 3 rounds open
    h.restart();
    await new Promise((resolve) => setTimeout(resolve, 20));
    const replies = client.replies();
    expect(replies.slice(2)).toEqual(Array.from({ length: 3 }, () => ({ id: expect.any(String), result: '', error: 'interrupted by a bunker restart; send the request again' })));
    // The answered ones are not answered again, and a second restart finds nothing left.
    h.restart();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(client.replies()).toHaveLength(5);
  });
});
