/** The page events a client follows (injectable for tests). */
export interface PageLifecycleTarget {
  readonly visibilityState: DocumentVisibilityState;
  addEventListener(type: string, listener: () => void): void;
  removeEventListener(type: string, listener: () => void): void;
}

/**
 * Calls `leave` when the page is hidden (a background tab is throttled and would miss stage
 * deadlines) or being unloaded, and `rejoin` when it is visible again or restored from the
 * back/forward cache. Returns the function that stops listening.
 */
export function followPageLifecycle(
  target: {
    document: PageLifecycleTarget;
    window: Pick<PageLifecycleTarget, 'addEventListener' | 'removeEventListener'>;
  },
  leave: () => void,
  rejoin: () => void,
): () => void {
  const onVisibility = () => (target.document.visibilityState === 'hidden' ? leave() : rejoin());
  target.document.addEventListener('visibilitychange', onVisibility);
  target.window.addEventListener('pagehide', leave);
  target.window.addEventListener('pageshow', rejoin);
  return () => {
    target.document.removeEventListener('visibilitychange', onVisibility);
    target.window.removeEventListener('pagehide', leave);
    target.window.removeEventListener('pageshow', rejoin);
  };
}
