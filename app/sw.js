// Baton's service worker: keeps the app shell (index.html and the hashed
// files it names) so the inbox opens with no network. Data never goes
// through here: the app keeps documents in IndexedDB and syncs over /sync.
const SHELL = "baton-shell-v1";

// The files index.html links: trunk names them with a content hash.
async function shellFiles() {
  const response = await fetch("/", { cache: "no-store" });
  const html = await response.clone().text();
  const linked = [...html.matchAll(/(?:href|src)="(\/[^"]+)"/g)].map((m) => m[1]);
  const imported = [...html.matchAll(/from\s+'(\/[^']+)'|import\('(\/[^']+)'\)|init\(\s*\{?\s*module_or_path:\s*'(\/[^']+)'/g)]
    .flatMap((m) => m.slice(1).filter(Boolean));
  return { response, files: [...new Set([...linked, ...imported])] };
}

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(SHELL);
    const { response, files } = await shellFiles();
    await cache.put("/", response);
    await cache.addAll(files);
    await self.skipWaiting();
  })());
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name !== SHELL) await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) return;
  if (url.pathname.startsWith("/api/") || url.pathname === "/sync" || url.pathname === "/healthz") return;

  if (request.mode === "navigate") {
    // The newest shell when online (and remember it); the kept one offline.
    event.respondWith((async () => {
      const cache = await caches.open(SHELL);
      try {
        const fresh = await fetch(request);
        if (fresh.ok) await cache.put("/", fresh.clone());
        return fresh;
      } catch (_) {
        return (await cache.match("/")) || Response.error();
      }
    })());
    return;
  }

  // Hashed files never change: the kept copy, else the network (then keep it).
  event.respondWith((async () => {
    const cache = await caches.open(SHELL);
    const kept = await cache.match(request);
    if (kept) return kept;
    const fresh = await fetch(request);
    if (fresh.ok) await cache.put(request, fresh.clone());
    return fresh;
  })());
});
