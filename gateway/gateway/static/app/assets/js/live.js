// One WebSocket to the gateway (/api/v1/live) shared by every page: pages
// subscribe to topics (floor:<id>, person:<id>...) and get the events; the
// socket reconnects by itself (backoff) and pages are told to resynchronise.

const listeners = new Map();   // topic -> Set(handler)
const resyncs = new Set();
const stateListeners = new Set();
let socket = null;
let delay = 500;
let state = "connecting";
let timer = null;

function setState(next) {
  state = next;
  for (const listener of stateListeners) listener(state);
}

function send(message) {
  if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
}

function connect() {
  clearTimeout(timer);
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  socket = new WebSocket(`${scheme}://${location.host}/api/v1/live`);
  setState("connecting");
  socket.addEventListener("message", (event) => {
    let message;
    try { message = JSON.parse(event.data); } catch (error) { return; }
    if (message.type === "welcome") {
      delay = 500;
      setState("open");
      const topics = [...listeners.keys()];
      if (topics.length) send({op: "subscribe", topics});
      for (const resync of resyncs) resync();
      return;
    }
    const handlers = listeners.get(message.topic);
    if (handlers) for (const handler of handlers) handler(message);
  });
  socket.addEventListener("close", () => {
    setState("closed");
    timer = setTimeout(connect, delay);
    delay = Math.min(delay * 2, 15000);
  });
}

export function start() {
  if (!socket) connect();
}

export function liveState() { return state; }
export function onLiveState(listener) { stateListeners.add(listener); return () => stateListeners.delete(listener); }

/** subscribe(["floor:x"], handler, resync) → unsubscribe function. */
export function subscribe(topics, handler, resync) {
  const added = [];
  for (const topic of topics) {
    if (!listeners.has(topic)) { listeners.set(topic, new Set()); added.push(topic); }
    listeners.get(topic).add(handler);
  }
  if (resync) resyncs.add(resync);
  if (added.length) send({op: "subscribe", topics: added});
  return () => {
    const removed = [];
    for (const topic of topics) {
      const set = listeners.get(topic);
      if (!set) continue;
      set.delete(handler);
      if (!set.size) { listeners.delete(topic); removed.push(topic); }
    }
    if (resync) resyncs.delete(resync);
    if (removed.length) send({op: "unsubscribe", topics: removed});
  };
}
