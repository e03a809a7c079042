// Door tablet display. Pairs itself (a code to type in the admin API), then
// shows its room: free or busy, the current meeting, the rest of today, the
// clock. Live updates come from the gateway's WebSocket (the room's booking
// events); when it drops, the last schedule stays on screen with the clock
// running, a banner says since when it is offline, actions are refused (they
// could not be confirmed), and it reconnects with backoff and resynchronises.
"use strict";

const TEXT = {
  fr: {
    pair_title: "Associer cette tablette à une salle",
    pair_help: "Un administrateur saisit ce code pour la salle voulue.",
    free: "LIBRE", busy: "OCCUPÉ", reserved: "Réservé",
    until: "jusqu'à {time}", left: "encore {minutes} min",
    free_until: "Libre jusqu'à {time}", free_all_day: "Libre pour le reste de la journée",
    check_in: "Je suis là", end: "Terminer", extend: "Prolonger 15 min",
    extended: "Réunion prolongée de 15 minutes.",
    later_today: "Plus tard aujourd'hui", nothing_later: "Rien d'autre aujourd'hui",
    seats: "{n} places", offline: "Hors ligne depuis {time}",
    refused_offline: "Hors ligne : action impossible pour l'instant.",
    checked_in: "Présence confirmée.", ended: "Réunion terminée : la salle est libre.",
    not_confirmed: "Action non confirmée : réessayez.",
    book_now: "Réserver maintenant", book_for: "Réserver {minutes} min", minutes: "{minutes} min",
    booked: "Salle réservée jusqu'à {time}.", walk_in: "Réservation immédiate",
    organiser: "Organisé par {name}", fits_until: "Jusqu'à {time} au plus : réunion suivante",
    no_fit: "Réunion suivante à {time} : trop proche pour réserver",
    book_offline: "Hors ligne : réservation impossible pour l'instant",
  },
  en: {
    pair_title: "Pair this tablet with a room",
    pair_help: "An administrator enters this code for the room.",
    free: "FREE", busy: "BUSY", reserved: "Reserved",
    until: "until {time}", left: "{minutes} min left",
    free_until: "Free until {time}", free_all_day: "Free for the rest of the day",
    check_in: "I'm here", end: "End now", extend: "Extend 15 min",
    extended: "Meeting extended by 15 minutes.",
    later_today: "Later today", nothing_later: "Nothing else today",
    seats: "{n} seats", offline: "Offline since {time}",
    refused_offline: "Offline: this cannot be done right now.",
    checked_in: "Check-in confirmed.", ended: "Meeting ended: the room is free.",
    not_confirmed: "Not confirmed: please try again.",
    book_now: "Book now", book_for: "Book {minutes} min", minutes: "{minutes} min",
    booked: "Room booked until {time}.", walk_in: "Walk-in",
    organiser: "Organised by {name}", fits_until: "Until {time} at most: next meeting",
    no_fit: "Next meeting at {time}: too soon to book",
    book_offline: "Offline: booking is not possible right now",
  },
};
const TOKEN_KEY = "escale.display.token";
const ROOM_KEY = "escale.display.room";
const $ = (id) => document.getElementById(id);

let lang = TEXT[document.documentElement.lang] ? document.documentElement.lang : "fr";
let token = localStorage.getItem(TOKEN_KEY);
let room = JSON.parse(localStorage.getItem(ROOM_KEY) || "null");
let online = false;
let offlineSince = null;
let ws = null;
let backoff = 1000;
let lastHeard = 0;
let timers = [];
const BOOK_MINUTES = [15, 30, 60];

function t(key, params = {}) {
  return TEXT[lang][key].replace(/\{(\w+)\}/g, (_, name) => String(params[name]));
}

function applyTexts() {
  document.documentElement.lang = lang;
  for (const el of document.querySelectorAll("[data-t]")) el.textContent = t(el.dataset.t);
  for (const button of document.querySelectorAll("#book-now button")) {
    const minutes = Number(button.dataset.minutes);
    button.textContent = t("minutes", { minutes });
    button.setAttribute("aria-label", t("book_for", { minutes }));
  }
}

function hhmm(date) {
  return new Intl.DateTimeFormat(lang === "fr" ? "fr-FR" : "en-GB", {
    hour: "2-digit", minute: "2-digit", timeZone: room ? room.time_zone : undefined,
  }).format(date);
}

async function api(method, path, body) {
  const headers = { "Accept-Language": lang };
  if (token) headers.Authorization = "Bearer " + token;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch("/api/v1" + path, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: "no-store",
  });
  if (response.status === 401 && token) {
    forget();
    throw new Error("revoked");
  }
  return response;
}

// --- pairing ------------------------------------------------------------------------------

async function startPairing() {
  show(false);
  applyTexts();
  let pairing = null;
  while (!token) {
    try {
      if (!pairing || Date.now() > Date.parse(pairing.expires_at) - 5000) {
        const answer = await fetch("/api/v1/display/pairings", { method: "POST" });
        if (!answer.ok) throw new Error("pairing " + answer.status);
        pairing = await answer.json();
        $("pair-code").textContent = pairing.code;
        $("pair-code").setAttribute("aria-label", pairing.code.split("").join(" "));
      }
      const claim = await fetch("/api/v1/display/pairings/claim", {
        method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ code: pairing.code, claim: pairing.claim }),
      });
      if (claim.status === 404) pairing = null;
      else if (claim.ok) {
        const result = await claim.json();
        if (result.status === "paired") {
          token = result.token;
          localStorage.setItem(TOKEN_KEY, token);
          break;
        }
      }
    } catch (error) {
      pairing = null;
    }
    await sleep(1000);
  }
  start();
}

function forget() {
  token = null;
  room = null;
  localStorage.removeItem(TOKEN_KEY);
  localStorage.removeItem(ROOM_KEY);
  for (const timer of timers) clearInterval(timer);
  timers = [];
  if (ws) { ws.onclose = null; ws.close(); ws = null; }
  startPairing();
}

// --- the room -----------------------------------------------------------------------------

function show(paired) {
  $("pairing").hidden = paired;
  for (const id of ["top", "screen", "bottom"]) $(id).hidden = !paired;
}

function start() {
  show(true);
  if (room) { lang = room.language; applyTexts(); render(); }
  refresh();
  connect();
  heartbeat();
  timers.push(setInterval(render, 1000));
  timers.push(setInterval(heartbeat, 30000));
  timers.push(setInterval(watchdog, 5000));
  wake();
}

async function refresh() {
  try {
    const answer = await api("GET", "/display/room");
    if (!answer.ok) return;
    room = await answer.json();
    localStorage.setItem(ROOM_KEY, JSON.stringify(room));
    if (lang !== room.language) { lang = room.language; }
    applyTexts();
    render();
  } catch (error) {
    // Offline: keep the last known schedule.
  }
}

function currentAndLater(now) {
  const meetings = (room ? room.meetings : []).filter((m) => Date.parse(m.end) > now);
  const current = meetings.find((m) => Date.parse(m.start) <= now);
  const later = meetings.filter((m) => m !== current);
  return [current, later];
}

function render() {
  const now = Date.now();
  $("clock").textContent = hhmm(new Date(now));
  if (!room) return;
  $("room-name").textContent = room.name;
  $("capacity").textContent = t("seats", { n: room.capacity });
  const [current, later] = currentAndLater(now);
  $("status").className = current ? "busy" : "free";
  $("status-icon").textContent = current ? "⛔" : "✅";
  $("status-text").textContent = current ? t("busy") : t("free");
  if (current) {
    const end = new Date(Date.parse(current.end));
    $("current").textContent = label(current) + " · " + t("until", { time: hhmm(end) });
    $("organiser").textContent = current.organiser ? t("organiser", { name: current.organiser }) : "";
    $("remaining").textContent = t("left", { minutes: Math.max(1, Math.ceil((end - now) / 60000)) });
  } else {
    $("current").textContent = later.length
      ? t("free_until", { time: hhmm(new Date(Date.parse(later[0].start))) }) : t("free_all_day");
    $("organiser").textContent = "";
    $("remaining").textContent = "";
  }
  renderBookNow(now, current, later);
  // Check in: the meeting under way, or the next one within 15 minutes (the
  // service applies the site's exact window and says so if it is not open).
  const next = current || later.find((m) => Date.parse(m.start) - now <= 15 * 60000);
  const checkIn = $("check-in");
  checkIn.hidden = !(next && next.status === "confirmed");
  checkIn.dataset.booking = next ? next.id : "";
  const end = $("end");
  const extend = $("extend");
  end.hidden = extend.hidden = !current;
  end.dataset.booking = extend.dataset.booking = current ? current.id : "";
  checkIn.disabled = end.disabled = extend.disabled = !online;

  const list = $("timeline");
  const items = later.map((m) => {
    const li = document.createElement("li");
    const when = document.createElement("span");
    when.className = "when";
    when.textContent = hhmm(new Date(Date.parse(m.start))) + "–" + hhmm(new Date(Date.parse(m.end)));
    const who = m.organiser && !m.walk_in ? " — " + m.organiser : "";
    li.append(when, document.createTextNode(label(m) + who));
    return li;
  });
  if (!items.length) {
    const li = document.createElement("li");
    li.textContent = t("nothing_later");
    items.push(li);
  }
  list.replaceChildren(...items);
  const banner = $("offline");
  banner.hidden = online || !offlineSince;
  if (!online && offlineSince) banner.textContent = t("offline", { time: hhmm(offlineSince) });
}

// What the door says a meeting is: its title, "Walk-in" for a booking made at
// the door, or "Reserved" (no title, or a room that hides details).
function label(meeting) {
  if (meeting.walk_in) return t("walk_in");
  return meeting.title || t("reserved");
}

// Book now: only when the room is free, only the durations that end before
// the next meeting (the service refuses the others too), never offline.
function renderBookNow(now, current, later) {
  const group = $("book-now");
  group.hidden = Boolean(current);
  if (current) return;
  const start = Math.floor(now / 60000) * 60000;  // the service starts it at the minute
  const next = later.length ? Date.parse(later[0].start) : Infinity;
  let reason = "";
  for (const button of group.querySelectorAll("button")) {
    const minutes = Number(button.dataset.minutes);
    const fits = start + minutes * 60000 <= next;
    button.disabled = !online || !fits;
    button.title = !online ? t("book_offline") : (fits ? "" : t("fits_until", { time: hhmm(new Date(next)) }));
  }
  if (!online) reason = t("book_offline");
  else if (next < Infinity && start + BOOK_MINUTES[BOOK_MINUTES.length - 1] * 60000 > next) {
    reason = start + BOOK_MINUTES[0] * 60000 > next
      ? t("no_fit", { time: hhmm(new Date(next)) }) : t("fits_until", { time: hhmm(new Date(next)) });
  }
  $("book-reason").textContent = reason;
}

async function bookNow(button) {
  if (!online) { say(t("refused_offline")); return; }
  button.disabled = true;
  try {
    const answer = await api("POST", "/display/book-now", { minutes: Number(button.dataset.minutes) });
    const body = await answer.json();
    say(answer.ok ? t("booked", { time: hhmm(new Date(Date.parse(body.end))) }) : body.message);
  } catch (error) {
    say(t("not_confirmed"));
  }
  await refresh();
}

async function act(path, button, done, extra = {}) {
  if (!online) { say(t("refused_offline")); return; }
  button.disabled = true;
  try {
    const answer = await api("POST", path, { booking_id: button.dataset.booking, ...extra });
    const body = await answer.json();
    say(answer.ok ? t(done) : body.message);
  } catch (error) {
    say(t("not_confirmed"));
  }
  await refresh();
}

function say(text) {
  $("message").textContent = text;
  setTimeout(() => { if ($("message").textContent === text) $("message").textContent = ""; }, 8000);
}

async function heartbeat() {
  try { await api("POST", "/display/heartbeat"); } catch (error) { /* offline */ }
}

// --- live updates -----------------------------------------------------------------------

function connect() {
  if (!token) return;
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${scheme}://${location.host}/api/v1/live?token=${encodeURIComponent(token)}`);
  ws = socket;
  socket.onopen = async () => {
    lastHeard = Date.now();
    if (!room) await refresh();
    if (room) socket.send(JSON.stringify({ op: "subscribe", topics: ["resource:" + room.room_id] }));
  };
  socket.onmessage = (event) => {
    lastHeard = Date.now();
    const message = JSON.parse(event.data);
    if (message.type === "subscribed") {
      backoff = 1000;
      markOnline();
      refresh();  // resynchronise: what happened while away
    } else if (typeof message.type === "string" && message.type.startsWith("booking.")) {
      refresh();
    }
  };
  socket.onclose = (event) => {
    if (ws !== socket) return;
    ws = null;
    markOffline();
    if (event.code === 4401) { forget(); return; }
    setTimeout(connect, backoff + Math.random() * 500);
    backoff = Math.min(backoff * 2, 30000);
  };
}

function watchdog() {
  // A Wi-Fi drop may not close the socket: ping, and give up on silence.
  if (!ws || ws.readyState !== WebSocket.OPEN) return;
  if (Date.now() - lastHeard > 20000) { ws.close(); return; }
  ws.send(JSON.stringify({ op: "ping" }));
}

function markOnline() {
  online = true;
  offlineSince = null;
  render();
}

function markOffline() {
  if (online || !offlineSince) offlineSince = new Date();
  online = false;
  render();
}

async function wake() {
  try { if ("wakeLock" in navigator) await navigator.wakeLock.request("screen"); } catch (error) { /* not allowed */ }
}

function sleep(ms) { return new Promise((resolve) => setTimeout(resolve, ms)); }

document.addEventListener("visibilitychange", () => { if (document.visibilityState === "visible") wake(); });
$("check-in").addEventListener("click", (event) => act("/display/check-in", event.currentTarget, "checked_in"));
$("end").addEventListener("click", (event) => act("/display/end", event.currentTarget, "ended"));
$("extend").addEventListener("click",
  (event) => act("/display/extend", event.currentTarget, "extended", { minutes: 15 }));
for (const button of $("book-now").querySelectorAll("button")) {
  button.addEventListener("click", (event) => bookNow(event.currentTarget));
}
applyTexts();
if (token) start(); else startPairing();
