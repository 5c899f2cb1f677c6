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
      emptyFor: "for \u201c{q}\u201d",
      error: "Search is unavailable",
      timeout: "Search is taking too long.",
      retry: "Retry",
      countOne: "1 section found",
      countOther: "{n} sections found",
      showAll: "Show all {n} results",
      didYouMean: "Did you mean",
      showingFor: "Showing results for",
      browseAll: "Browse all articles",
      topics: "Or browse a topic",
      call: "Call",
      text: "Text",
    },
  };
  const DEBOUNCE_MS = 180;
  const MIN_CHARS = 2;
  const MAX_CHARS = 200; // the API's limit for q
  const MAX_SUGGEST_CHARS = 100;
  const MAX_TOPICS = 4; // topics offered when nothing is found
  const NARROW_PX = 512; // the stylesheet's compact layout: @container (max-width: 32em)
  const ENTITIES = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'", nbsp: "\u00a0" };

  const script = document.currentScript ||
    [...document.querySelectorAll('script[src*="kb-search.js"]')].pop();
  if (!script) return;

  // -- configuration ---------------------------------------------------------------------
  const data = script.dataset;
  const scriptUrl = new URL(script.src, location.href);
  const base = new URL((data.kbApi || scriptUrl.origin).replace(/\/+$/, "") + "/", location.href);
  const limit = Math.min(50, Math.max(1, parseInt(data.kbLimit, 10) || 5));
  const timeoutMs = Math.max(1, parseInt(data.kbTimeout, 10) || 8000);
  const theme = data.kbTheme === "light" || data.kbTheme === "dark" ? data.kbTheme : "auto";
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

  // The full results page: kb's own /search unless data-kb-results names another. The search
  // box is a real GET form to it, so Enter (with no result chosen) shows every result there.
  const results = new URL((data.kbResults && safeUrl(data.kbResults, location.href)) ||
    new URL("search", base).href);
  const resultsHref = (params) => {
    const url = new URL(results);
    for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
    return url.href;
  };

  // -- the widget's DOM, inside a shadow root so host styles neither leak in nor out ------
  const host = document.createElement("kb-search");
  const root = host.attachShadow({ mode: "open" });
  const input = h("input", {
    id: "kb-input", class: "kb-input", type: "search", name: "q", role: "combobox",
    "aria-autocomplete": "list", "aria-expanded": "false", "aria-controls": "kb-list",
    autocomplete: "off", autocapitalize: "off", spellcheck: "false", enterkeyhint: "search",
    maxlength: MAX_CHARS, placeholder,
  });
  const notesBox = h("div", { class: "kb-notices" });
  // The status line: a live region for the state ("3 sections found"), then what goes with
  // it (the query that found nothing, a Retry button), kept out of the announcement.
  const status = h("div", { class: "kb-status", role: "status", "aria-live": "polite" });
  const after = h("span", { class: "kb-after" });
  const line = h("div", { class: "kb-line" }, status, after);
  const dym = h("div", { class: "kb-dym" });
  const more = h("div", { class: "kb-more" }); // when nothing is found: where to go instead
  const list = h("div", { id: "kb-list", class: "kb-list", role: "listbox", "aria-label": L.results, hidden: true });
  const wrap = h("form", {
    class: "kb", role: "search", method: "get", action: results.href, lang, hidden: true,
  },
  // A GET form replaces the action's query string: carry its parameters as fields.
  [...results.searchParams].filter(([k]) => k !== "q")
    .map(([name, value]) => h("input", { type: "hidden", name, value })),
  h("label", { for: "kb-input", class: "kb-vh", text: L.label }),
  input,
  h("div", { class: "kb-panel" }, notesBox, line, dym, more, list));
  // Dark palette: data-kb-theme="dark", or (auto) the visitor's system setting, live.
  const dark = matchMedia("(prefers-color-scheme: dark)");
  const paint = () => wrap.classList.toggle("kb-dark", theme == "dark" || (theme == "auto" && dark.matches));
  paint();
  dark.addEventListener("change", paint);
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
  let hovered = false; // the active option was set by the mouse, not the keyboard
  let notesKey = "[]";
  let topics = null; // the promise of GET /topics, made the first time nothing is found

  const norm = (s) => s.replace(/\s+/g, " ").trim().slice(0, MAX_CHARS);

  const setOpen = (open) => {
    open = open && options.length > 0;
    list.hidden = !open;
    input.setAttribute("aria-expanded", String(open));
    if (!open) setActive(-1);
  };

  // One active option at a time, whether the keyboard or the mouse moved it: hovering an
  // option makes it the active one, so two rows are never highlighted at once.
  const setActive = (i, byMouse) => {
    if (options[active]) options[active].setAttribute("aria-selected", "false");
    active = i;
    hovered = !!byMouse;
    const opt = options[i];
    if (opt) {
      opt.setAttribute("aria-selected", "true");
      input.setAttribute("aria-activedescendant", opt.id);
      if (!byMouse) opt.scrollIntoView({ block: "nearest" });
    } else {
      input.removeAttribute("aria-activedescendant");
    }
  };

  const setStatus = (text, kind, ...extra) => {
    status.textContent = text;
    line.className = "kb-line" + (text ? " kb-on" : "") + (kind ? " kb-" + kind : "");
    after.replaceChildren(...(extra.length ? [" ", ...extra] : []));
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
    more.replaceChildren();
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

  const fail = (text, ...extra) => {
    clearResults();
    setNotices([]);
    setStatus(text, "error", ...extra);
  };

  const option = (i, attrs, ...kids) =>
    h(attrs.href ? "a" : "div", Object.assign({ id: "kb-opt-" + i, role: "option", "aria-selected": "false", tabindex: attrs.href ? -1 : null }, attrs), ...kids);

  // Nothing found: a way to browse instead. The topics are fetched once, the first time.
  const renderEmpty = (mine) => {
    more.replaceChildren(h("p", null, h("a", { href: resultsHref({}), text: L.browseAll })));
    topics = topics || getJson("api/v1/topics", {})
      .then((res) => res.topics.filter((t) => !t.parent && t.section_count > 0)
        .sort((a, b) => b.section_count - a.section_count).slice(0, MAX_TOPICS))
      .catch(() => { topics = null; return []; }); // try again the next time
    topics.then((found) => {
      if (mine !== seq || !found.length) return; // a newer search owns the widget now
      more.append(h("p", { id: "kb-topics", class: "kb-topics-label", text: L.topics }),
        h("ul", { class: "kb-topics", "aria-labelledby": "kb-topics" }, found.map((t) =>
          h("li", null, h("a", { href: resultsHref({ topic: t.id }), text: t.label })))));
    });
  };

  const render = (query, res, sug, mine) => {
    const hits = res.hits;
    setNotices(Array.isArray(res.notices) ? res.notices : []);
    const q = query.toLowerCase();
    const suggestions = (sug && Array.isArray(sug.suggestions) ? sug.suggestions : [])
      .filter((s) => s && s.text && s.text.toLowerCase() !== q).slice(0, 5);
    let n = 0;
    const groups = [];
    const sugs = suggestions.length
      ? h("div", { role: "group", class: "kb-group kb-sugs", "aria-labelledby": "kb-g-sug" },
        h("div", { id: "kb-g-sug", class: "kb-group-label", text: L.suggestions }),
        suggestions.map((s) => option(n++, { class: "kb-opt kb-sug", "data-q": s.text, text: s.text })))
      : null;
    // On a phone the sections come first and the suggestions after them (in the DOM too, so
    // the arrow keys follow what is seen): five sections then fit on one screen.
    const narrow = wrap.clientWidth < NARROW_PX;
    if (sugs && !narrow) groups.push(sugs);
    // Sections grouped by article (in order of each article's best hit), the article's title
    // shown once above its sections. Each option still names its article, visually hidden,
    // for screen readers that do not announce the group as the active option moves.
    const byArticle = new Map();
    for (const hit of hits) {
      if (!byArticle.has(hit.article)) byArticle.set(hit.article, []);
      byArticle.get(hit.article).push(hit);
    }
    for (const same of byArticle.values()) {
      const gid = "kb-g-" + n; // unique: named after the group's first option
      groups.push(h("div", { role: "group", class: "kb-group kb-hits", "aria-labelledby": gid },
        h("div", { id: gid, class: "kb-group-label kb-article", text: same[0].article_title }),
        same.map((hit) => {
          const parents = (hit.breadcrumb || []).slice(0, -1)
            .filter((t, k, all) => t && all.indexOf(t) === k && t !== hit.title && t !== hit.article_title);
          return option(n++, { class: "kb-opt kb-hit", href: hitHref(hit) },
            h("span", { class: "kb-hit-title", text: hit.title }),
            h("span", { class: "kb-hit-meta" },
              h("span", { class: "kb-vh", text: hit.article_title + (parents.length ? " \u203a " : "") }),
              parents.join(" \u203a ")),
            h("span", { class: "kb-snippet" }, snippetNodes(hit.snippet)));
        })));
    }
    if (sugs && narrow) groups.push(sugs);
    const total = Math.max(res.total || 0, hits.length);
    if (total > hits.length) {
      groups.push(option(n++, { class: "kb-opt kb-all", href: resultsHref({ q: query }), text: L.showAll.replace("{n}", total) }));
    }
    setActive(-1);
    list.replaceChildren(...groups);
    options = [...list.querySelectorAll('[role="option"]')];
    if (hits.length) {
      setStatus(total === 1 ? L.countOne : L.countOther.replace("{n}", total));
      more.replaceChildren();
    } else {
      setStatus(L.empty, "empty", L.emptyFor.replace("{q}", () => query));
      renderEmpty(mine);
    }
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
    // A server that accepts the connection and never answers must not leave "Searching…"
    // up forever: give up after data-kb-timeout ms, and offer to try again.
    let late = false;
    const watchdog = setTimeout(() => { late = true; controller.abort(); }, timeoutMs);
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
      render(query, res, sug, mine);
    } catch (_) {
      if (mine !== seq) return;
      if (late) {
        fail(L.timeout, h("button", {
          type: "button", class: "kb-btn", text: L.retry,
          onclick: () => { input.focus(); run(query); },
        }));
      } else if (!signal.aborted) {
        fail(L.error);
      }
    } finally {
      clearTimeout(watchdog);
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
      // With an option active, Enter opens it; otherwise the form submits: the results page
      // (kb's, or data-kb-results) shows every result. The host page's URL never changes.
      if (!list.hidden && options[active]) {
        e.preventDefault();
        choose(options[active]);
      }
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
  // The mouse moves the active option. Only a real move counts: not the list scrolling or
  // appearing under a resting pointer, and not a finger scrolling the page.
  let lastXY = "";
  list.addEventListener("pointermove", (e) => {
    const xy = e.clientX + "," + e.clientY;
    if (e.pointerType !== "mouse" || xy === lastXY) return;
    lastXY = xy;
    const i = options.indexOf(e.target.closest('[role="option"]'));
    if (i >= 0 && i !== active) setActive(i, true);
  });
  list.addEventListener("pointerleave", () => {
    lastXY = "";
    if (hovered) setActive(-1); // a row only the mouse chose; one the keyboard chose stays
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
