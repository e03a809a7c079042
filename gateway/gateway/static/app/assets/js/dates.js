// Dates as people read them, in the page's language; days as local YYYY-MM-DD.

import {lang} from "./i18n.js";

const pad = (n) => String(n).padStart(2, "0");

export function isoDate(date) {
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

export function parseDate(text) {
  const [y, m, d] = text.split("-").map(Number);
  return new Date(y, m - 1, d);
}

export function addDays(date, days) {
  const copy = new Date(date.getFullYear(), date.getMonth(), date.getDate());
  copy.setDate(copy.getDate() + days);
  return copy;
}

export function today() { return addDays(new Date(), 0); }

export function mondayOf(date) {
  const weekday = (date.getDay() + 6) % 7;  // 0 = Monday
  return addDays(date, -weekday);
}

function locale() { return lang() === "fr" ? "fr-FR" : "en-GB"; }

export function dayLabel(date) {
  return new Intl.DateTimeFormat(locale(), {weekday: "long", day: "numeric", month: "long"}).format(date);
}

export function shortDay(date) {
  return new Intl.DateTimeFormat(locale(), {weekday: "short", day: "numeric", month: "short"}).format(date);
}

export function numericDay(date) {
  return new Intl.DateTimeFormat(locale(), {day: "numeric", month: "numeric"}).format(date);
}

export function timeLabel(iso) {
  return new Intl.DateTimeFormat(locale(), {hour: "2-digit", minute: "2-digit"}).format(new Date(iso));
}

export function dateTimeLabel(iso) {
  return new Intl.DateTimeFormat(locale(), {weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit"}).format(new Date(iso));
}

/** "10:30" on day "2026-11-24" → ISO instant with the browser's offset. */
export function localInstant(day, time) {
  const [h, m] = time.split(":").map(Number);
  const date = parseDate(day);
  date.setHours(h, m, 0, 0);
  const offset = -date.getTimezoneOffset();
  const sign = offset >= 0 ? "+" : "-";
  const abs = Math.abs(offset);
  return `${day}T${pad(h)}:${pad(m)}:00${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}
