import { encodeSecAggMessage } from '@fedlearn/core';
import { describe, expect, it } from 'vitest';
import { type BrowserClientEvent, ProgressTracker } from './progress.js';

const secagg = (type: string, round: number) => ({
  type: 'secagg' as const,
  jobId: 'job',
  round,
  params: encodeSecAggMessage({ type, round } as never),
});

describe('ProgressTracker', () => {
  it('walks a secure round: training, each stage this client answered, then waiting', () => {
    const states: string[] = [];
    const tracker = new ProgressTracker((e: BrowserClientEvent) => {
      if (e.type === 'state') states.push(`${e.state}@${e.round ?? '-'}`);
    });
    tracker.observe({ type: 'connected' });
    tracker.observe({ type: 'welcome', serverId: 's', heartbeatIntervalMs: 1000 });
    tracker.observe({ type: 'fit_start', jobId: 'job', round: 2 });
    tracker.observe({ type: 'message_sent', message: secagg('secagg/advertise-keys', 2) });
    tracker.observe({ type: 'fit_done', jobId: 'job', round: 2, numExamples: 5, metrics: {}, bytesUp: 0 });
    tracker.observe({ type: 'message_sent', message: secagg('secagg/share-keys', 2) });
    tracker.observe({ type: 'message_sent', message: secagg('secagg/masked-input', 2) });
    tracker.observe({ type: 'message_sent', message: secagg('secagg/unmask', 2) });
    tracker.observe({ type: 'disconnected', reason: 'transport close' });
    expect(states).toEqual([
      'connecting@-',
      'waiting@-',
      'training@2',
      'secagg:advertise-keys@2',
      'secagg:share-keys@2',
      'secagg:masked-input@2',
      'waiting@2',
      'disconnected@2',
    ]);
  });

  it('shows uploading then waiting in a plain round, and keeps "paused" through the disconnect it causes', () => {
    const states: string[] = [];
    const tracker = new ProgressTracker((e) => {
      if (e.type === 'state') states.push(e.state);
    });
    tracker.observe({ type: 'fit_start', jobId: 'job', round: 1 });
    tracker.observe({
      type: 'message_sent',
      message: {
        type: 'fit_res',
        jobId: 'job',
        round: 1,
        numExamples: 1,
        metrics: {},
        params: new Uint8Array(1),
      },
    });
    tracker.observe({ type: 'fit_done', jobId: 'job', round: 1, numExamples: 1, metrics: {}, bytesUp: 10 });
    tracker.set('paused');
    tracker.observe({ type: 'disconnected', reason: 'io client disconnect' });
    expect(states).toEqual(['training', 'uploading', 'waiting', 'paused']);
  });
});
