// Layout checks run in the page by tests/e2e/test_layout.py. Takes the stored names no reader
// should meet; returns {problems: [...], checked: {...}}, each problem one line naming the
// element, its text and the measurement.
(internal) => {
  const problems = [];
  const checked = { text: 0, boxes: 0, charts: 0, scrollers: 0 };
  const SLACK = 1; // sub-pixel rounding

  const snippet = (s) => (s || "").replace(/\s+/g, " ").trim().slice(0, 70);
  const testids = (el) => {
    const ids = [];
    for (let e = el; e && ids.length < 2; e = e.parentElement) {
      const id = e.getAttribute && e.getAttribute("data-testid");
      if (id && !ids.includes(id)) ids.push(id);
    }
    return ids.join(" in ");
  };
  const name = (el) => {
    const cls = (el.getAttribute("class") || "").split(/\s+/).filter(Boolean)[0];
    const key = el.closest("[class*='st-key-']");
    const keyName = key ? [...key.classList].find((c) => c.startsWith("st-key-")) : null;
    return (
      `<${el.tagName.toLowerCase()}${cls ? "." + cls : ""}>` +
      (testids(el) ? ` (${testids(el)})` : "") +
      (keyName ? ` [${keyName.slice(7)}]` : "") +
      under(el) +
      ` "${snippet(el.textContent || el.value || el.getAttribute("aria-label"))}"`
    );
  };
  const headings = [...document.querySelectorAll("h1, h2, h3")];
  const under = (el) => {
    let last = null;
    for (const h of headings) {
      if (h.compareDocumentPosition(el) & Node.DOCUMENT_POSITION_FOLLOWING) last = h;
    }
    return last ? ` under "${snippet(last.textContent)}"` : "";
  };
  const px = (v) => Math.round(v * 10) / 10;
  const shown = (el) => {
    const r = el.getBoundingClientRect();
    if (r.width <= 0 || r.height <= 0) return false;
    const s = getComputedStyle(el);
    return s.visibility !== "hidden" && s.display !== "none" && s.opacity !== "0";
  };
  // Visually hidden helpers (screen-reader text, native inputs behind a custom control) and
  // the invisible drag handles at a table's edges take no room a reader sees.
  const hiddenFromSight = (el, root) => {
    for (let e = el; e && e !== root; e = e.parentElement) {
      const s = getComputedStyle(e);
      if (s.opacity === "0" || s.clip.startsWith("rect") || s.clipPath !== "none") return true;
      if (/resize$/.test(s.cursor)) return true;
    }
    return false;
  };
  const ownText = (el) =>
    [...el.childNodes].some((n) => n.nodeType === Node.TEXT_NODE && n.textContent.trim());
  const scrollsX = (s) => s.overflowX === "auto" || s.overflowX === "scroll";
  const clipsX = (s) => s.overflowX !== "visible";
  const clipsY = (s) => s.overflowY !== "visible";

  const app = document.querySelector('[data-testid="stAppViewContainer"]') || document.body;
  const main = document.querySelector('[data-testid="stMainBlockContainer"]');
  const sidebar = document.querySelector('[data-testid="stSidebarContent"]');
  const roots = [main, sidebar].filter((r) => r && shown(r));
  const viewport = document.documentElement.clientWidth;

  // The one scroll container allowed to hold content wider or taller than its frame: a
  // table's grid (drawn on a canvas, its frame checked like any element). Its content must
  // still fit sideways unless a scroll bar shows there is more (below).
  const ALLOWED_SCROLLER = '[data-testid="stDataFrame"], [data-testid="stDataEditor"]';
  const inAllowedScroller = (el) => {
    for (let e = el.parentElement; e && e !== document.body; e = e.parentElement) {
      const s = getComputedStyle(e);
      if (scrollsX(s) && e.closest(ALLOWED_SCROLLER)) return e;
    }
    return null;
  };

  // (b) The page does not scroll sideways: neither the document nor any container of the
  // main area or the sidebar is wider than its frame (a scroll bar or clipped content).
  const frames = new Set([document.scrollingElement, ...roots]);
  for (let e = main; e && e !== document.documentElement; e = e.parentElement) frames.add(e);
  for (const frame of frames) {
    if (frame.scrollWidth > frame.clientWidth + SLACK) {
      problems.push(
        `page scrolls sideways: ${name(frame).slice(0, 80)} scrollWidth ${frame.scrollWidth}` +
          ` > clientWidth ${frame.clientWidth}`
      );
    }
  }

  // (b) Every element lies within its element's frame (its column) and within the main
  // area or sidebar; a wide table may scroll only inside its own frame, visibly.
  for (const root of roots) {
    const rootBox = root.getBoundingClientRect();
    const right = Math.min(rootBox.right, viewport);
    for (const el of root.querySelectorAll("*")) {
      if (el.closest("svg") && el.tagName.toLowerCase() !== "svg") continue; // charts: (c)
      if (!shown(el) || inAllowedScroller(el) || hiddenFromSight(el, root)) continue;
      if (el.closest('[data-testid="stTooltipContent"], [data-baseweb="popover"]')) continue;
      checked.boxes += 1;
      const box = el.getBoundingClientRect();
      const frame = el.parentElement && el.parentElement.closest('[data-testid="stElementContainer"]');
      const limit = frame ? frame.getBoundingClientRect() : rootBox;
      const lo = Math.max(limit.left, rootBox.left), hi = Math.min(limit.right, right);
      if (box.right > hi + SLACK || box.left < lo - SLACK) {
        const within = frame ? "its column" : root === main ? "the main area" : "the sidebar";
        problems.push(
          `spills out of ${within}: ${name(el)} spans x ${px(box.left)}..${px(box.right)},` +
            ` ${within} ${px(lo)}..${px(hi)}`
        );
      }
      const s = getComputedStyle(el);
      const scrollsY = s.overflowY === "auto" || s.overflowY === "scroll";
      if (scrollsY && el.scrollHeight > el.clientHeight + 2 && !el.closest(ALLOWED_SCROLLER)) {
        problems.push(
          `hides part of its content below: ${name(el)} scrollHeight ${el.scrollHeight} > ` +
            `clientHeight ${el.clientHeight}`
        );
      }
      if (scrollsX(s) && el.scrollWidth > el.clientWidth + SLACK) {
        if (!el.closest(ALLOWED_SCROLLER)) {
          problems.push(
            `scrolls sideways: ${name(el)} scrollWidth ${el.scrollWidth} > clientWidth ` +
              `${el.clientWidth}`
          );
        } else {
          checked.scrollers += 1;
          // A table may scroll sideways only with a scroll bar that takes room
          // (shows there is more). An overlay bar (macOS, and this headless browser) shows
          // nothing until scrolled, so there the content must fit.
          if (el.offsetHeight - el.clientHeight <= 0) {
            problems.push(
              `wider than its frame with no visible scroll bar: ${name(el)} scrollWidth ` +
                `${el.scrollWidth} > clientWidth ${el.clientWidth}`
            );
          }
        }
      }
    }
  }

  // (a) No text is cut off: an element holding text is not narrower (or, when it clips,
  // shorter) than that text, and no clipping ancestor cuts its text's box.
  const textElements = [];
  for (const root of roots) {
    for (const el of root.querySelectorAll("*")) {
      const tag = el.tagName.toLowerCase();
      if (el.closest("svg")) continue;
      if (!shown(el) || inAllowedScroller(el) || hiddenFromSight(el, root)) continue;
      if (tag === "input" || tag === "textarea") {
        if (el.type === "file" || el.type === "hidden" || el.type === "checkbox") continue;
        if (el.type === "radio") continue;
        if (el.value && el.scrollWidth > el.clientWidth + SLACK) {
          problems.push(
            `cut off: ${name(el)} value "${snippet(el.value)}" scrollWidth ${el.scrollWidth}` +
              ` > clientWidth ${el.clientWidth}`
          );
        }
        checked.text += 1;
        continue;
      }
      if (tag === "style" || tag === "script" || !ownText(el)) continue;
      textElements.push(el);
    }
  }
  for (const el of textElements) {
    checked.text += 1;
    const s = getComputedStyle(el);
    if ((clipsX(s) || s.textOverflow === "ellipsis") && el.scrollWidth > el.clientWidth + SLACK) {
      problems.push(
        `cut off: ${name(el)} scrollWidth ${el.scrollWidth} > clientWidth ${el.clientWidth}`
      );
      continue;
    }
    if (clipsY(s) && el.scrollHeight > el.clientHeight + 2) {
      problems.push(
        `cut off below: ${name(el)} scrollHeight ${el.scrollHeight} > clientHeight ` +
          `${el.clientHeight}`
      );
      continue;
    }
    const range = document.createRange();
    range.selectNodeContents(el);
    const text = range.getBoundingClientRect();
    if (text.width <= 0) continue;
    const root = roots.find((r) => r.contains(el));
    for (let a = el.parentElement; a && a !== root; a = a.parentElement) {
      const as = getComputedStyle(a);
      if (!clipsX(as) && !clipsY(as)) continue;
      const box = a.getBoundingClientRect();
      const cutX = clipsX(as) && (text.right > box.right + SLACK || text.left < box.left - SLACK);
      const cutY = clipsY(as) && (text.bottom > box.bottom + 2 || text.top < box.top - 2);
      if ((cutX && !scrollsX(as)) || (cutY && !a.closest(ALLOWED_SCROLLER))) {
        problems.push(
          `cut off by ${name(a).slice(0, 60)}: ${name(el)} text spans x ` +
            `${px(text.left)}..${px(text.right)}, y ${px(text.top)}..${px(text.bottom)}; ` +
            `frame x ${px(box.left)}..${px(box.right)}, y ${px(box.top)}..${px(box.bottom)}`
        );
        break;
      }
    }
  }

  // (c) Charts: every label inside the chart's frame (not cut), the title clear of the
  // legend, and no label over another (axis titles, tick labels, legend, panel titles).
  const intersects = (a, b) =>
    Math.min(a.right, b.right) - Math.max(a.left, b.left) > SLACK &&
    Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top) > SLACK;
  const plots = [...document.querySelectorAll(".js-plotly-plot")].filter(shown);
  plots.forEach((plot, index) => {
    checked.charts += 1;
    const container = plot.querySelector(".svg-container") || plot;
    const frame = container.getBoundingClientRect();
    const title = plot.querySelector(".gtitle");
    const chart = `chart ${index + 1} "${snippet(title ? title.textContent : "")}"`;
    const labels = [];
    const groups = new Map();
    const groupOf = (el) => {
      const owner =
        el.closest(".gtitle") ||
        el.closest(".legend") ||
        el.closest(".annotation") ||
        el.closest("[class*='xaxislayer'], [class*='yaxislayer']") ||
        el.closest("[class$='title']") ||
        el;
      if (!groups.has(owner)) groups.set(owner, groups.size);
      return groups.get(owner);
    };
    for (const t of plot.querySelectorAll("text")) {
      if (!t.textContent.trim() || !shown(t)) continue;
      if (t.closest(".hoverlayer, .modebar")) continue;
      const box = t.getBoundingClientRect();
      labels.push({ el: t, box, group: groupOf(t) });
      if (
        box.left < frame.left - SLACK ||
        box.right > frame.right + SLACK ||
        box.top < frame.top - SLACK ||
        box.bottom > frame.bottom + SLACK
      ) {
        problems.push(
          `${chart}: label "${snippet(t.textContent)}" cut by the chart's edge: spans ` +
            `x ${px(box.left)}..${px(box.right)}, y ${px(box.top)}..${px(box.bottom)}; chart ` +
            `x ${px(frame.left)}..${px(frame.right)}, y ${px(frame.top)}..${px(frame.bottom)}`
        );
      }
    }
    // A tick label Plotly hides because it would stick out of the chart ("hide past div").
    for (const t of plot.querySelectorAll("[class*='xaxislayer'] text, [class*='yaxislayer'] text")) {
      if (t.textContent.trim() && getComputedStyle(t).display === "none") {
        problems.push(`${chart}: tick label "${snippet(t.textContent)}" hidden: it does not fit`);
      }
    }
    const legend = plot.querySelector(".legend");
    if (title && legend && shown(legend)) {
      const a = title.getBoundingClientRect(), b = legend.getBoundingClientRect();
      if (intersects(a, b)) {
        problems.push(
          `${chart}: title over the legend: title y ${px(a.top)}..${px(a.bottom)} x ` +
            `${px(a.left)}..${px(a.right)}, legend y ${px(b.top)}..${px(b.bottom)} x ` +
            `${px(b.left)}..${px(b.right)}`
        );
      }
    }
    for (let i = 0; i < labels.length; i++) {
      for (let j = i + 1; j < labels.length; j++) {
        const a = labels[i], b = labels[j];
        if (a.group === b.group || !intersects(a.box, b.box)) continue;
        problems.push(
          `${chart}: "${snippet(a.el.textContent)}" over "${snippet(b.el.textContent)}": ` +
            `y ${px(a.box.top)}..${px(a.box.bottom)} and ${px(b.box.top)}..${px(b.box.bottom)}`
        );
      }
    }
  });

  // (d) No stored name is shown: the visible text of the main area and the sidebar, and
  // every chart's text and every table's drawn headers and cells (a table is drawn on a
  // canvas; its grid keeps the drawn part as an accessible table).
  const visible = [
    ...roots.map((r) => r.innerText),
    ...plots.flatMap((p) => [...p.querySelectorAll("text")].map((t) => t.textContent)),
    ...[...document.querySelectorAll('[data-testid="stDataFrame"]')].flatMap((t) =>
      [...t.querySelectorAll('[role="columnheader"], [role="gridcell"]')].map((c) => c.textContent)
    ),
  ].join("\n");
  for (const stored of internal) {
    let at = visible.indexOf(stored);
    if (at >= 0) {
      problems.push(
        `stored name "${stored}" shown: "…${snippet(visible.slice(Math.max(0, at - 40), at + 40))}…"`
      );
    }
  }
  return { problems, checked };
}
