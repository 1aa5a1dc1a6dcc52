// QLVB service worker: keeps the page shell (styles, scripts, fonts, icons) and an offline notice. Pages are
// always fetched from the server (they hold one official's documents); only when the network is gone does a
// page request get the offline notice instead of the browser's error.
const CACHE = '{{ cache }}';
const SHELL = {{ shell }};
const OFFLINE = {{ offline }};

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith('qlvb-shell-') && k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

function isShellAsset(url) {
  return url.origin === self.location.origin
    && (url.pathname.startsWith('/assets/') || url.pathname.startsWith('/static/appbuilder/'));
}

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (request.mode === 'navigate') {
    event.respondWith(fetch(request).catch(() => caches.match(OFFLINE)));
    return;
  }
  if (isShellAsset(url)) {
    // Cache first, refreshed in the background: the shell changes only with a new build (new cache name).
    event.respondWith(caches.open(CACHE).then((cache) => cache.match(request).then((hit) => {
      const refresh = fetch(request).then((response) => {
        if (response.ok) cache.put(request, response.clone());
        return response;
      });
      return hit || refresh;
    })));
  }
});
