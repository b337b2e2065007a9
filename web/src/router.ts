import { useEffect, useState } from 'react';

/** A dashboard route, read from the URL hash (`#/customers/12`). */
export type Route =
  | { page: 'overview' }
  | { page: 'cohorts' }
  | { page: 'customers'; q: string; offset: number }
  | { page: 'customer'; id: number }
  | { page: 'segments' }
  | { page: 'predictions' }
  | { page: 'flows' }
  | { page: 'loyalty' }
  | { page: 'feedback' };

/** Parses a hash such as `#/customers?q=ann` into a route; anything unknown is the overview. */
export function parseHash(hash: string): Route {
  const [path = '', query = ''] = hash.replace(/^#\/?/, '').split('?');
  const parts = path.split('/').filter(Boolean);
  const params = new URLSearchParams(query);
  switch (parts[0]) {
    case 'cohorts':
      return { page: 'cohorts' };
    case 'segments':
      return { page: 'segments' };
    case 'predictions':
      return { page: 'predictions' };
    case 'flows':
      return { page: 'flows' };
    case 'loyalty':
      return { page: 'loyalty' };
    case 'feedback':
      return { page: 'feedback' };
    case 'customers': {
      const id = Number(parts[1]);
      if (Number.isInteger(id) && id > 0) return { page: 'customer', id };
      return { page: 'customers', q: params.get('q') ?? '', offset: Math.max(0, Number(params.get('offset')) || 0) };
    }
    default:
      return { page: 'overview' };
  }
}

/** The hash of a route. */
export function hrefOf(route: Route): string {
  switch (route.page) {
    case 'customer':
      return `#/customers/${route.id}`;
    case 'customers': {
      const params = new URLSearchParams();
      if (route.q) params.set('q', route.q);
      if (route.offset) params.set('offset', String(route.offset));
      const query = params.toString();
      return `#/customers${query ? `?${query}` : ''}`;
    }
    default:
      return `#/${route.page}`;
  }
}

/** The current route; follows hash changes. */
export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseHash(window.location.hash));
  useEffect(() => {
    const onChange = () => {
      setRoute(parseHash(window.location.hash));
      window.scrollTo(0, 0);
    };
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return route;
}
