// Small React hooks shared by the pages: live events, loading data with errors reported, hash routes.
import { useCallback, useEffect, useRef, useState } from 'react';
import { useReportError } from '../components/Toasts.js';
import { events, type StreamState } from './events.js';
import type { CorralEvent } from './types.js';

/**
 * Calls fn for every live event whose type starts with one of the prefixes, and on `resync` (the
 * daemon restarted and events may be missing: reload).
 */
export function useEvents(prefixes: string[], fn: (e: CorralEvent) => void): void {
  const ref = useRef(fn);
  ref.current = fn;
  const key = prefixes.join(',');
  useEffect(() => {
    const list = key.split(',');
    return events.subscribe((e) => {
      if (e.type === 'resync' || list.some((p) => e.type.startsWith(p))) ref.current(e);
    });
  }, [key]);
}

export function useStreamState(): StreamState {
  const [s, setS] = useState<StreamState>(events.state);
  useEffect(() => events.onState(setS), []);
  return s;
}

/**
 * Loads data with `load`, again whenever `reload()` is called or a deps value changes; failures go
 * to the error toasts and leave the previous data in place.
 */
export function useLoad<T>(
  load: () => Promise<T>,
  deps: unknown[],
): { data: T | undefined; reload: () => void; loading: boolean } {
  const report = useReportError();
  const [data, setData] = useState<T>();
  const [loading, setLoading] = useState(true);
  const [tick, setTick] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;
  // biome-ignore lint/correctness/useExhaustiveDependencies: deps are the caller's, tick forces a reload
  useEffect(() => {
    let live = true;
    setLoading(true);
    loadRef
      .current()
      .then((d) => live && setData(d))
      .catch((e) => live && report(e))
      .finally(() => live && setLoading(false));
    return () => {
      live = false;
    };
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { data, reload, loading };
}

/** The hash route, split: `#/terminal/abc` → ['terminal', 'abc']. */
function readRoute(): string[] {
  return location.hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
}

export function useRoute(): string[] {
  const [route, setRoute] = useState(readRoute);
  useEffect(() => {
    const on = () => setRoute(readRoute());
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return route;
}

export function fmtTime(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleTimeString();
}
