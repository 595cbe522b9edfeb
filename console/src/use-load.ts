/** Loads a page's data on mount and on demand, with the error as one line. */
import { useCallback, useEffect, useState } from 'preact/hooks';
import { describeError } from './api.js';

export function useLoad<T>(load: () => Promise<T>, deps: readonly unknown[] = []): { data: T | null; error: string; reload: () => void; loading: boolean } {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState('');
  const [loading, setLoading] = useState(true);
  const [n, setN] = useState(0);
  const reload = useCallback(() => setN((x) => x + 1), []);
  useEffect(() => {
    let live = true;
    setLoading(true);
    load()
      .then((d) => {
        if (!live) return;
        setData(d);
        setError('');
      })
      .catch((err: unknown) => {
        if (live) setError(describeError(err));
      })
      .finally(() => {
        if (live) setLoading(false);
      });
    return () => {
      live = false;
    };
  }, [n, ...deps]);
  return { data, error, reload, loading };
}
