/*! kb search widget: one <script> tag, no dependencies. Configuration: data-kb-* attributes
 * on the script tag (see docs/widget.md). It talks to the kb API only, without cookies or storage. */
(() => {
  "use strict";

  const LABELS = {
    en: {
      label: "Search the knowledge base",
      placeholder: "Search articles",
      suggestions: "Suggestions",
      results: "Sections",
      loading: "Searching\u2026",
      empty: "No sections found",
      error: "Search is unavailable",
      countOne: "1 section found",
      countOther: "{n} sections found",
      didYouMean: "Did you mean",
      showingFor: "Showing results for",
      call: "Call",
      text: "Text",
    },
  };
  const DEBOUNCE_MS = 180;
  const MIN_CHARS = 2;
  const MAX_CHARS = 200; // the API's limit for q
  const MAX_SUGGEST_CHARS = 100;
  const ENTITIES = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'", nbsp: "\u00a0" };

  const script = document.currentScript ||
    [...document.querySelectorAll('script[src*="kb-search.js"]')].pop();
  if (!script) return;

  // -- configuration ---------------------------------------------------------------------
  const data = script.dataset;
  const scriptUrl = new URL(script.src, location.href);
  const base = new URL((data.kbApi || scriptUrl.origin).replace(/\/+$/, "") + "/", location.href);
  const limit = Math.min(50, Math.max(1, parseInt(data.kbLimit, 10) || 5));
  const lang = data.kbLang || "en";
  const L = Object.assign({}, LABELS.en, LABELS[lang.split("-")[0]]);
  for (const key of Object.keys(data)) {
    const m = /^(?:kbL|l)abel([A-Z].*)$/.exec(key); // data-kb-label-count-other -> countOther
    if (m) L[m[1][0].toLowerCase() + m[1].slice(1)] = data[key];
  }
  const placeholder = data.kbPlaceholder || L.placeholder;
  const linkTemplate = data.kbLink || "";

  // -- DOM helpers: text only, never HTML ------------------------------------------------
  const h = (tag, attrs, ...kids) => {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v == null || v === false) continue;
      if (k === "text") el.textContent = v;
      else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v === true ? "" : String(v));
    }
    for (const kid of kids.flat()) if (kid != null && kid !== "") el.append(kid);
    return el;
  };

  const decode = (s) => s.replace(/&(#[xX][0-9a-fA-F]+|#\d+|[a-zA-Z]+);/g, (m, e) => {
    if (e[0] !== "#") return ENTITIES[e.toLowerCase()] || m;
    const n = e[1] === "x" || e[1] === "X" ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
    return n > 0 && n < 0x110000 ? String.fromCodePoint(n) : m;
  });

  // The server escapes the snippet and wraps matches in a bare <mark>: only that tag is
  // rebuilt as an element; everything else becomes text nodes.
  const snippetNodes = (html) => {
    const out = [];
    let marked = false;
    for (const part of String(html || "").split(/(<mark>|<\/mark>)/)) {
      if (part === "<mark>") marked = true;
      else if (part === "</mark>") marked = false;
      else if (part) out.push(marked ? h("mark", null, decode(part)) : decode(part));
    }
    return out;
  };

  const safeUrl = (value, against) => {
    try {
      const url = new URL(value, against);
      return url.protocol === "https:" || url.protocol === "http:" ? url.href : null;
    } catch (_) {
      return null;
    }
  };

  const hitHref = (hit) => {
    if (linkTemplate) {
      const filled = linkTemplate.replace(/\{(article|anchor|id)\}/g,
        (_, k) => encodeURIComponent(String(hit[k] || "")));
      const url = safeUrl(filled, location.href);
      if (url) return url;
    }
    return safeUrl(hit.url, base) ||
      safeUrl(`articles/${encodeURIComponent(hit.article)}#${encodeURIComponent(hit.anchor)}`, base);
  };

  // -- the widget's DOM, inside a shadow root so host styles neither leak in nor out ------
  const host = document.createElement("kb-search");
  const root = host.attachShadow({ mode: "open" });
  const input = h("input", {
    id: "kb-input", class: "kb-input", type: "search", role: "combobox",
    "aria-autocomplete": "list", "aria-expanded": "false", "aria-controls": "kb-list",
    autocomplete: "off", autocapitalize: "off", spellcheck: "false", enterkeyhint: "search",
    maxlength: MAX_CHARS, placeholder,
  });
  const notesBox = h("div", { class: "kb-notices" });
  const status = h("div", { class: "kb-status", role: "status", "aria-live": "polite" });
  const dym = h("div", { class: "kb-dym" });
  const list = h("div", { id: "kb-list", class: "kb-list", role: "listbox", "aria-label": L.results, hidden: true });
  const wrap = h("div", { class: "kb", role: "search", lang, hidden: true },
    h("label", { for: "kb-input", class: "kb-vh", text: L.label }),
    input,
    h("div", { class: "kb-panel" }, notesBox, status, dym, list));
  const sheet = h("link", { rel: "stylesheet", href: new URL("kb-search.css", scriptUrl).href });
  const reveal = () => { wrap.hidden = false; };
  sheet.addEventListener("load", reveal);
  sheet.addEventListener("error", reveal); // unstyled beats invisible
  root.append(sheet, wrap);

  // -- state ---------------------------------------------------------------------------
  let timer = 0;
  let seq = 0; // every request gets a number; only the latest one may render
  let inflight = null; // the AbortController of the latest request
  let options = [];
  let active = -1;
  let notesKey = "[]";

  const norm = (s) => s.replace(/\s+/g, " ").trim().slice(0, MAX_CHARS);

  const setOpen = (open) => {
    open = open && options.length > 0;
    list.hidden = !open;
    input.setAttribute("aria-expanded", String(open));
    if (!open) setActive(-1);
  };

  const setActive = (i) => {
    if (options[active]) options[active].setAttribute("aria-selected", "false");
    active = i;
    const opt = options[i];
    if (opt) {
      opt.setAttribute("aria-selected", "true");
      input.setAttribute("aria-activedescendant", opt.id);
      opt.scrollIntoView({ block: "nearest" });
    } else {
      input.removeAttribute("aria-activedescendant");
    }
  };

  const setStatus = (text, kind) => {
    status.textContent = text;
    status.className = "kb-status" + (kind ? " kb-" + kind : "");
  };

  const setNotices = (notices) => {
    const key = JSON.stringify(notices);
    if (key === notesKey) return; // unchanged: keep it shown without announcing it again
    notesKey = key;
    notesBox.replaceChildren(...notices.map((n) => h("div", { class: "kb-notice", role: "alert" },
      h("p", { class: "kb-notice-title", text: n.title }),
      h("p", { text: n.message }),
      Array.isArray(n.resources) && n.resources.length ? h("ul", null, n.resources.map((r) => {
        const tel = r.phone ? String(r.phone).replace(/[^\d+*#]/g, "") : "";
        const sms = r.sms ? String(r.sms).replace(/[^\d+]/g, "") : "";
        const url = r.url ? safeUrl(r.url) : null;
        return h("li", null,
          h("span", { class: "kb-res-name", text: r.name }),
          tel ? [": ", h("a", { href: "tel:" + tel, "aria-label": `${L.call} ${r.name}: ${r.phone}`, text: r.phone })] : null,
          sms ? [tel ? ", " : ": ", h("a", { href: "sms:" + sms, "aria-label": `${r.name}: ${L.text} ${r.sms}`, text: `${L.text} ${r.sms}` })] : null,
          url ? [tel || sms ? ", " : ": ", h("a", { href: url, rel: "noopener", text: new URL(url).host + new URL(url).pathname.replace(/\/$/, "") })] : null,
          r.text ? [" ", h("span", { text: r.text })] : null);
      })) : null)));
  };

  const clearResults = () => {
    options = [];
    list.replaceChildren();
    setOpen(false);
    dym.replaceChildren();
  };

  const reset = () => {
    clearTimeout(timer);
    seq++;
    if (inflight) inflight.abort();
    inflight = null;
    wrap.classList.remove("kb-busy");
    clearResults();
    setStatus("");
    setNotices([]);
  };

  const fail = () => {
    clearResults();
    setNotices([]);
    setStatus(L.error, "error");
  };

  const option = (i, attrs, ...kids) =>
    h(attrs.href ? "a" : "div", Object.assign({ id: "kb-opt-" + i, role: "option", "aria-selected": "false", tabindex: attrs.href ? -1 : null }, attrs), ...kids);

  const render = (query, res, sug) => {
    const hits = res.hits;
    setNotices(Array.isArray(res.notices) ? res.notices : []);
    const q = query.toLowerCase();
    const suggestions = (sug && Array.isArray(sug.suggestions) ? sug.suggestions : [])
      .filter((s) => s && s.text && s.text.toLowerCase() !== q).slice(0, 5);
    let n = 0;
    const groups = [];
    if (suggestions.length) {
      groups.push(h("div", { role: "group", class: "kb-group kb-sugs", "aria-labelledby": "kb-g-sug" },
        h("div", { id: "kb-g-sug", class: "kb-group-label", text: L.suggestions }),
        suggestions.map((s) => option(n++, { class: "kb-opt kb-sug", "data-q": s.text, text: s.text }))));
    }
    if (hits.length) {
      groups.push(h("div", { role: "group", class: "kb-group kb-hits", "aria-labelledby": "kb-g-hits" },
        h("div", { id: "kb-g-hits", class: "kb-group-label", text: L.results }),
        hits.map((hit) => {
          const i = n++;
          const trail = [hit.article_title, ...(hit.breadcrumb || []).slice(0, -1)]
            .filter((t, k, all) => t && all.indexOf(t) === k && t !== hit.title);
          return option(i, { class: "kb-opt kb-hit", href: hitHref(hit) },
            h("span", { class: "kb-hit-title", text: hit.title }),
            h("span", { class: "kb-hit-meta", text: trail.join(" \u203a ") }),
            h("span", { class: "kb-snippet" }, snippetNodes(hit.snippet)));
        })));
    }
    setActive(-1);
    list.replaceChildren(...groups);
    options = [...list.querySelectorAll('[role="option"]')];
    const total = Math.max(res.total || 0, hits.length);
    setStatus(hits.length ? (total === 1 ? L.countOne : L.countOther.replace("{n}", total)) : L.empty,
      hits.length ? "" : "empty");
    dym.replaceChildren();
    if (res.did_you_mean) {
      const alt = String(res.did_you_mean);
      const corrected = res.corrected && hits.length;
      dym.append(h("p", null, (corrected ? L.showingFor : L.didYouMean) + " ",
        h("button", { type: "button", class: "kb-linkbtn", onclick: () => pick(alt), text: alt }),
        corrected ? "" : "?"));
    }
    setOpen(true);
  };

  const getJson = async (path, params, signal) => {
    const url = new URL(path, base);
    for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
    const response = await fetch(url.href, {
      credentials: "omit", cache: "no-store", referrerPolicy: "no-referrer", signal,
    });
    if (!response.ok) throw new Error("HTTP " + response.status);
    return response.json();
  };

  const run = async (query) => {
    clearTimeout(timer);
    if (inflight) inflight.abort();
    const mine = ++seq;
    const controller = (inflight = new AbortController());
    const signal = controller.signal;
    wrap.classList.add("kb-busy");
    list.setAttribute("aria-busy", "true");
    setStatus(L.loading, "loading");
    const suggest = query.length <= MAX_SUGGEST_CHARS
      ? getJson("api/v1/suggest", { q: query, limit: 6 }, signal).catch(() => null)
      : null;
    try {
      const [res, sug] = await Promise.all([getJson("api/v1/search", { q: query, limit }, signal), suggest]);
      if (mine !== seq) return; // a newer query owns the widget now
      if (!res || !Array.isArray(res.hits)) throw new Error("unexpected response");
      render(query, res, sug);
    } catch (_) {
      if (mine === seq && !signal.aborted) fail();
    } finally {
      if (mine === seq) {
        inflight = null;
        wrap.classList.remove("kb-busy");
        list.removeAttribute("aria-busy");
      }
    }
  };

  const pick = (text) => {
    input.value = text;
    input.focus();
    run(norm(text));
  };

  const choose = (opt) => {
    if (opt.hasAttribute("data-q")) pick(opt.getAttribute("data-q"));
    else if (opt.href) opt.click(); // a real link: the browser follows it
  };

  // -- events --------------------------------------------------------------------------
  input.addEventListener("input", () => {
    clearTimeout(timer);
    const query = norm(input.value);
    if (query.length < MIN_CHARS) return reset();
    timer = setTimeout(() => run(query), DEBOUNCE_MS);
  });

  input.addEventListener("keydown", (e) => {
    if (e.isComposing) return;
    const count = options.length;
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      if (!count) return;
      e.preventDefault();
      if (list.hidden) setOpen(true);
      const down = e.key === "ArrowDown";
      setActive(active < 0 ? (down ? 0 : count - 1) : (active + (down ? 1 : count - 1)) % count);
    } else if (e.key === "Enter") {
      e.preventDefault(); // never submit a host form: the query stays out of URLs
      if (!list.hidden && options[active]) choose(options[active]);
      else if (norm(input.value).length >= MIN_CHARS) run(norm(input.value));
    } else if (e.key === "Escape") {
      e.preventDefault();
      if (!list.hidden) setOpen(false);
      else { input.value = ""; reset(); }
    }
  });

  input.addEventListener("focus", () => setOpen(true));
  wrap.addEventListener("focusout", (e) => {
    if (!wrap.contains(e.relatedTarget)) setOpen(false);
  });
  list.addEventListener("mousedown", (e) => e.preventDefault()); // keep focus in the input
  list.addEventListener("click", (e) => {
    const opt = e.target.closest('[role="option"]');
    if (opt && opt.hasAttribute("data-q")) { e.preventDefault(); choose(opt); }
  });

  // -- placement -----------------------------------------------------------------------
  const mount = () => {
    const target = data.kbTarget && document.getElementById(data.kbTarget);
    if (target) target.append(host);
    else if (script.parentNode && script.parentNode !== document.head) script.after(host);
    else document.body.prepend(host);
  };
  if (document.readyState === "loading" && (data.kbTarget || !document.body || script.parentNode === document.head)) {
    document.addEventListener("DOMContentLoaded", mount, { once: true });
  } else {
    mount();
  }
})();
