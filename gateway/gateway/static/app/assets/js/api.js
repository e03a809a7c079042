// The REST API (/api/v1) with the session cookie: JSON in and out, the CSRF
// header on every change, the person's language, and errors as ApiFailure.

import {lang} from "./i18n.js";

export const API = "/api/v1";

export class ApiFailure extends Error {
  constructor(status, body) {
    super((body && body.message) || `HTTP ${status}`);
    this.status = status;
    this.code = (body && body.error) || "http_error";
    this.body = body || {};
  }
}

export function cookie(name) {
  for (const part of document.cookie.split(";")) {
    const [key, ...rest] = part.trim().split("=");
    if (key === name) return decodeURIComponent(rest.join("="));
  }
  return null;
}

let csrfFromMe = null;
export function rememberCsrf(token) { csrfFromMe = token || null; }

export function signInUrl() {
  const next = location.pathname + location.search;
  return `/auth/login?next=${encodeURIComponent(next)}`;
}

/** api("GET", "/bookings", {query: {mine: 1}}) → parsed JSON (null for 204). */
export async function api(method, path, {query, body, raw, contentType, signal} = {}) {
  let url = API + path;
  if (query) {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query)) {
      if (value !== undefined && value !== null && value !== "") params.set(key, String(value));
    }
    const text = params.toString();
    if (text) url += `?${text}`;
  }
  const headers = {"Accept": "application/json", "Accept-Language": lang()};
  if (method !== "GET" && method !== "HEAD") {
    const csrf = cookie("escale_csrf") || csrfFromMe;
    if (csrf) headers["X-CSRF-Token"] = csrf;
  }
  let payload;
  if (raw !== undefined) {
    payload = raw;
    headers["Content-Type"] = contentType || "application/octet-stream";
  } else if (body !== undefined) {
    payload = JSON.stringify(body);
    headers["Content-Type"] = "application/json";
  }
  const response = await fetch(url, {method, headers, body: payload, credentials: "same-origin", signal});
  if (response.status === 401) {
    location.assign(signInUrl());
    throw new ApiFailure(401, {error: "unauthorized"});
  }
  if (response.status === 204) return null;
  const type = response.headers.get("Content-Type") || "";
  const data = type.includes("json") ? await response.json().catch(() => null) : await response.text();
  if (!response.ok) throw new ApiFailure(response.status, typeof data === "object" ? data : null);
  return data;
}

/** Whether an API route exists for this caller (a feature another part may not have yet). */
export async function probe(path) {
  try {
    const response = await fetch(API + path, {credentials: "same-origin", headers: {"Accept": "application/json"}});
    if (!response.ok) return null;
    return await response.json().catch(() => null);
  } catch (error) {
    return null;
  }
}
