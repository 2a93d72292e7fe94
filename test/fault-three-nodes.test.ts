import { afterEach, describe, expect, it } from 'vitest';
import type { ConversationEvent } from '../server/transport/protocol.js';
import { TestAgent, signedInAgent } from './support/agent-client.js';
import { agentEvents, type Cleanup, matchProblems, messageEvents, readAll, receivedProblems, runCleanups, sequenceProblems, storedProblems, until, WidgetListener } from './support/faults.js';
import { redisStore, startApp, uniqueNamespace, type RunningApp } from './support/harness.js';

const cleanups: Cleanup[] = [];
afterEach(() => runCleanups(cleanups));

const ENV = { HANDOFF_SWEEP_MS: '100', WIDGET_MESSAGES_PER_SECOND: '200', WIDGET_MESSAGE_BURST: '200' };

describe('three app instances sharing one Redis', () => {
  it('serves listeners on every node and an agent on one; a listener that moves node resumes with no gap', async () => {
    const namespace = uniqueNamespace('three');
    const nodes: RunningApp[] = [];
    for (let i = 0; i < 3; i++) {
      const node = await startApp({ store: await redisStore(namespace), env: ENV });
      nodes.push(node);
      cleanups.push(() => node.stop());
    }
    const [n1, n2, n3] = nodes as [RunningApp, RunningApp, RunningApp];

    const { cookie } = await signedInAgent(n1.url, n1.store, { displayName: 'Morgan', capacity: 3 });
    const agent = await TestAgent.connect(n1.url, cookie);
    cleanups.push(() => agent.close());
    await agent.waitFor('agent.ready');

    // Two listeners per node; one on node 2 and one on node 3 ask for a person.
    const listeners = nodes.flatMap((node, i) => [new WidgetListener(node.wsUrl, `n${i + 1}-a`), new WidgetListener(node.wsUrl, `n${i + 1}-b`)]);
    cleanups.push(() => listeners.forEach((l) => l.close()));
    for (const l of listeners) l.open();
    await Promise.all(listeners.map((l) => l.ready()));
    const byName = (name: string) => listeners.find((l) => l.name === name)!;
    const humans = [byName('n2-a'), byName('n3-a')];
    for (const l of humans) {
      l.send('I want to talk to a human');
      await agent.waitFor('chat.assigned', (p) => p.chat.conversationId === l.conversationId, 10_000);
      await until(`${l.name} sees the agent join`, () => l.events.some((e) => e.type === 'conversation.state' && e.to === 'assigned'));
    }

    let agentMessages = 0;
    const agentSay = async (l: WidgetListener, text: string) => {
      const ack = await agent.request('chat.send', { conversationId: l.conversationId!, clientId: `ag-${++agentMessages}`, text });
      expect(ack).toMatchObject({ ok: true, duplicate: false });
    };

    // Messages both ways, on every node.
    for (let i = 1; i <= 3; i++) {
      for (const l of listeners) l.send(`round ${i}: why does my music stop after a minute?`);
      for (const l of humans) await agentSay(l, `Round ${i}: let me check that for you.`);
    }
    await Promise.all(listeners.map((l) => l.allAcked()));

    // The listener on node 2 who talks to the agent (on node 1) moves to node 3: the connection
    // drops, the load balancer routes the reconnection elsewhere. While it is away, the agent
    // writes and the listener writes into the outbox.
    const mover = byName('n2-a');
    const botMover = byName('n1-b');
    const readiesBefore = new Map([mover, botMover].map((l) => [l, l.readies.length]));
    mover.routeTo(n3.wsUrl);
    botMover.routeTo(n2.wsUrl);
    mover.drop();
    botMover.drop();
    await until('the movers noticed the drop', () => [mover, botMover].every((l) => l.statuses.at(-1) === 'reconnecting'), 5000);
    await agentSay(mover, 'Are you still there? I found the cause.');
    await agentSay(mover, 'It is the offline-mode setting.');
    mover.send('written while offline');
    botMover.send('written while offline too');
    await mover.ready(readiesBefore.get(mover));
    await botMover.ready(readiesBefore.get(botMover));
    expect(mover.sockets.at(-1)?.url).toBe(n3.wsUrl);
    expect(botMover.sockets.at(-1)?.url).toBe(n2.wsUrl);
    expect(mover.readies.at(-1)).toMatchObject({ resumed: true, conversationId: mover.conversationId });

    for (const l of listeners) l.send('last one: thanks');
    await agentSay(mover, 'You are welcome.');
    await agentSay(byName('n3-a'), 'Anything else?');
    await Promise.all(listeners.map((l) => l.allAcked()));

    for (const l of listeners) {
      const id = l.conversationId!;
      await until(`${l.name} caught up with the store`, async () => l.events.length >= (await readAll(n1.store, id)).length, 8000).catch(() => {});
      const stored = await readAll(n1.store, id);
      expect(storedProblems(l, stored), `${l.name} stored`).toEqual([]);
      expect(sequenceProblems(`${l.name} received`, l.events, 1)).toEqual([]);
      expect(matchProblems(`${l.name} received`, l.events, stored)).toEqual([]);
      expect(l.events.length, `${l.name}: received every stored event`).toBe(stored.length);
    }
    // The mover got the agent's messages written while it was away, once each, in order.
    expect(messageEvents(mover.events, 'agent').map((m) => m.text)).toEqual([
      'Round 1: let me check that for you.',
      'Round 2: let me check that for you.',
      'Round 3: let me check that for you.',
      'Are you still there? I found the cause.',
      'It is the offline-mode setting.',
      'You are welcome.',
    ]);

    // The agent (node 1) got every acknowledged message of both its listeners (nodes 2 and 3), once, in order.
    for (const l of humans) {
      const id = l.conversationId!;
      const expected = l.sent.slice(1).map((m) => m.clientId); // the first one asked for a person, before the agent joined
      await until(`the agent caught up with ${l.name}`, () => receivedProblems('agent', l, agentEvents(agent, id), expected).length === 0, 8000).catch(() => {});
      const received: ConversationEvent[] = agentEvents(agent, id);
      const stored = await readAll(n1.store, id);
      expect(receivedProblems('agent', l, received, expected)).toEqual([]);
      expect(sequenceProblems(`agent chat.event ${l.name}`, received)).toEqual([]);
      expect(matchProblems(`agent chat.event ${l.name}`, received, stored)).toEqual([]);
      expect(received.at(-1)?.seq).toBe(stored.at(-1)?.seq);
    }
    expect(n2.store).not.toBe(n3.store);
  }, 45_000);
});
