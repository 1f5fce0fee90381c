import { describe, expect, it } from 'vitest';
import { followPageLifecycle } from './page-lifecycle.js';

class FakeDocument extends EventTarget {
  visibilityState: DocumentVisibilityState = 'visible';
}

describe('followPageLifecycle', () => {
  it('leaves when the tab is hidden or unloaded, rejoins when it is back, and stops listening', () => {
    const document = new FakeDocument();
    const window = new EventTarget();
    const calls: string[] = [];
    const stop = followPageLifecycle(
      { document, window },
      () => calls.push('leave'),
      () => calls.push('rejoin'),
    );
    document.visibilityState = 'hidden';
    document.dispatchEvent(new Event('visibilitychange'));
    document.visibilityState = 'visible';
    document.dispatchEvent(new Event('visibilitychange'));
    window.dispatchEvent(new Event('pagehide'));
    window.dispatchEvent(new Event('pageshow'));
    stop();
    window.dispatchEvent(new Event('pagehide'));
    expect(calls).toEqual(['leave', 'rejoin', 'leave', 'rejoin']);
  });
});
