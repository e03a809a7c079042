// The app shell: who is signed in, the navigation, the language switch, and
// a small router (/app/<page>) that draws one page at a time into <main>.

import {api, rememberCsrf, signInUrl, cookie} from "./api.js";
import {h, clear} from "./dom.js";
import {lang, setLang, t} from "./i18n.js";
import * as live from "./live.js";
import week from "./pages/week.js";
import desks from "./pages/desks.js";
import rooms from "./pages/rooms.js";
import bookings from "./pages/bookings.js";
import colleagues from "./pages/colleagues.js";
import admin from "./pages/admin.js";

const PAGES = [week, desks, rooms, bookings, colleagues, admin];
const ADMIN_ROLES = ["admin", "site_admin"];

const ctx = {me: null, isAdmin: false, toast, navigate};
let cleanup = null;
let firstDraw = true;
let drawing = 0;

function pageFor(pathname) {
  const name = pathname.replace(/^\/app\/?/, "").replace(/\/$/, "") || "week";
  return PAGES.find((page) => page.path === name) || week;
}

function toast(message, kind = "info") {
  const box = document.getElementById("toast");
  clear(box);
  if (!message) return;
  box.className = `toast toast--${kind}`;
  box.append(h("span", {class: "toast__icon", "aria-hidden": "true"}, kind === "error" ? "⚠" : "✓"), " ", message);
}

function navigate(path) {
  history.pushState({}, "", path);
  draw();
}

function drawShell() {
  document.documentElement.lang = lang();
  document.getElementById("skip-link").textContent = t("skip_to_content");
  const nav = document.getElementById("nav");
  nav.setAttribute("aria-label", t("nav_label"));
  const list = clear(document.getElementById("nav-list"));
  const current = pageFor(location.pathname);
  for (const page of PAGES) {
    if (page.adminOnly && !ctx.isAdmin) continue;
    const href = page.path === "week" ? "/app/" : `/app/${page.path}`;
    const link = h("a", {href, "aria-current": page === current ? "page" : null}, t(page.nav));
    link.addEventListener("click", (event) => {
      if (event.ctrlKey || event.metaKey || event.shiftKey) return;
      event.preventDefault();
      navigate(href);
    });
    list.append(h("li", {}, link));
  }
  const switcher = document.getElementById("lang-switch");
  const other = lang() === "fr" ? "en" : "fr";
  switcher.textContent = other === "en" ? "English" : "Français";
  switcher.setAttribute("lang", other);
  switcher.setAttribute("aria-label", t("switch_language"));
  const who = document.getElementById("who");
  who.textContent = ctx.me ? t("signed_in_as", {name: (ctx.me.person && ctx.me.person.display_name) || ctx.me.actor.email}) : "";
  const signOut = document.getElementById("sign-out");
  signOut.textContent = t("sign_out");
  signOut.hidden = !ctx.me;
  drawLiveState(live.liveState());
}

function drawLiveState(state) {
  const el = document.getElementById("live-state");
  el.className = `live-state live-state--${state}`;
  el.textContent = `${state === "open" ? "●" : "○"} ${t(state === "open" ? "live_on" : "live_off")}`;
}

async function draw() {
  const run = ++drawing;
  if (cleanup) { try { cleanup(); } catch (error) { /* a page's own tidy-up */ } cleanup = null; }
  drawShell();
  const page = pageFor(location.pathname);
  const main = clear(document.getElementById("main"));
  delete main.dataset.loaded;
  document.title = `${t(page.title)} — Escale`;
  toast("");
  if (page.adminOnly && !ctx.isAdmin) {
    main.append(h("h1", {}, t(page.title)), h("p", {}, t("admin_only")));
    return;
  }
  const result = await page.render(main, ctx);
  if (run !== drawing) { if (typeof result === "function") result(); return; }
  cleanup = typeof result === "function" ? result : null;
  if (!firstDraw) {
    const heading = main.querySelector("h1");
    if (heading) { heading.setAttribute("tabindex", "-1"); heading.focus(); }
  }
  firstDraw = false;
}

async function signOut() {
  try {
    await fetch("/auth/logout", {method: "POST", credentials: "same-origin",
                                  headers: {"X-CSRF-Token": cookie("escale_csrf") || ""}});
  } finally {
    location.assign("/auth/login");
  }
}

async function start() {
  document.getElementById("lang-switch").addEventListener("click", () => {
    setLang(lang() === "fr" ? "en" : "fr");
    draw();
  });
  document.getElementById("sign-out").addEventListener("click", signOut);
  window.addEventListener("popstate", draw);
  try {
    ctx.me = await api("GET", "/me");
  } catch (error) {
    if (error.status === 401) return;  // on the way to the sign-in page
    drawShell();
    document.getElementById("main").append(h("h1", {}, "Escale"), h("p", {role: "alert"}, t("load_failed")));
    return;
  }
  rememberCsrf(ctx.me.csrf_token);
  ctx.isAdmin = ADMIN_ROLES.includes(ctx.me.actor.role);
  live.onLiveState(drawLiveState);
  live.start();
  await draw();
  document.body.dataset.ready = "1";
}

export {signInUrl};
start();
