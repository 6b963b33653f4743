// The review page: a folder's forms in review order, one form's pages with its words, its fields with
// the model's prediction, and the person's corrections saved as labels. No framework, no build step:
// every text that comes from a form is set with textContent, never as HTML.
//
// A field's value is kept under its slot: a scalar field's name, a fixed table's cell label
// (`T/Row1/Col`), or for a dynamic table `Items/#<row id>/<Column>`: a row keeps its id while rows are
// added and removed, and is numbered (`Items/0/Description`) only when the labels are saved.
"use strict";

const API = "/api/review/";
const ZOOMS = [0.5, 0.67, 0.8, 1, 1.25, 1.5, 2, 3];
const CSS_PX_PER_INCH = 96;

const state = {
  folder: "", folders: [], queue: null, filter: { state: "", field: "" },
  doc: "", form: null, page: 1, zoom: "fit", fieldTypes: [],
  fields: [], selected: "", values: {}, undo: [], regionMode: false, cursor: -1,
  schemaEtag: null, edits: 0, wordText: new Map(), markState: new Map(),
  tables: {},  // dynamic table name -> its rows [{id, pred}]: pred, the predicted row shown beside it
};
let rowSeq = 0;

const $ = (id) => document.getElementById(id);
const el = (tag, props = {}, ...children) => {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null && v !== false) node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children) node.append(c);
  return node;
};

async function api(method, path, params = {}, body) {
  const url = new URL(API + path, location.origin);
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== "") url.searchParams.set(k, v);
  const init = { method, headers: {}, credentials: "same-origin" };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers["Content-Type"] = "application/json";
  }
  const res = await fetch(url, init);
  const data = res.headers.get("Content-Type")?.includes("json") ? await res.json() : null;
  if (!res.ok) {
    const err = new Error(data?.error?.message || `${res.status} ${res.statusText}`);
    err.status = res.status;
    err.code = data?.error?.code;
    throw err;
  }
  return data;
}

function showAlert(message) {
  const box = $("alert");
  box.textContent = message;
  box.hidden = !message;
}

function setStatus(message) { $("status").textContent = message; }

// ---- folders and queue --------------------------------------------------------------------------
async function loadFolders() {
  const data = await api("GET", "folders");
  state.folders = data.folders;
  state.fieldTypes = data.fieldTypes;
  $("user").textContent = `Signed in: ${data.user}`;
  const select = $("folder");
  select.replaceChildren(...data.folders.map((f) =>
    el("option", { value: f.folder, text: `${f.folder || "(container root)"} · ${f.forms} forms` })));
  const wanted = new URLSearchParams(location.hash.slice(1)).get("folder");
  const start = data.folders.find((f) => f.folder === wanted) || data.folders.find((f) => f.forms) || data.folders[0];
  if (!start) { setStatus("The forms container has no forms yet: upload some (formloop upload)."); return; }
  select.value = start.folder;
  await openFolder(start.folder);
}

async function openFolder(folder) {
  state.folder = folder;
  state.doc = "";
  state.form = null;
  state.filter = { state: "", field: "" };
  history.replaceState(null, "", `#folder=${encodeURIComponent(folder)}`);
  await loadQueue();
  const schema = await api("GET", "fields", { folder });
  state.schemaEtag = schema.etag;
  if (!schema.fields) openSchemaDialog(null);
  const first = state.queue.forms[0];
  if (first) await openForm(first.document);
  if (!$("models-view").hidden) await loadModels();
}

const STATE_NAMES = { needsReview: "Needs review", predicted: "Predicted", unlabeled: "Unlabeled", labeled: "Labeled" };

async function loadQueue() {
  const q = await api("GET", "queue", { folder: state.folder, ...state.filter });
  state.queue = q;
  const counts = $("counts");
  counts.replaceChildren(
    el("button", { type: "button", "aria-pressed": String(!state.filter.state), onclick: () => filterBy("") ,
                   text: `All ${q.total}` }),
    ...Object.entries(q.counts).map(([s, n]) => el("button", {
      type: "button", "aria-pressed": String(state.filter.state === s), onclick: () => filterBy(s),
      text: `${STATE_NAMES[s]} ${n}` })));
  const fieldFilter = $("field-filter");
  const names = new Set(q.forms.flatMap((f) => f.lowConfidenceNames));
  for (const f of state.fields) if (!isTable(f)) names.add(f.name);
  const current = state.filter.field;
  fieldFilter.replaceChildren(el("option", { value: "", text: "any field" }),
    ...[...names].sort().map((n) => el("option", { value: n, text: `low confidence: ${n}` })));
  fieldFilter.value = current;
  renderQueue();
  const m = q.model;
  $("model-summary").textContent = m
    ? `Current model ${m.modelId} · ${m.promotion || "?"}${m.reviewedAccuracy != null
        ? ` · ${(100 * m.reviewedAccuracy).toFixed(1)} % right in ${m.reviewedDocuments} reviewed forms` : " · no reviews yet"}`
    : "No model yet: label forms until the folder trains its first one.";
}

function renderQueue() {
  const list = $("form-list");
  list.replaceChildren(...state.queue.forms.map((f) => {
    const conf = f.lowestConfidence != null ? ` · lowest ${(100 * f.lowestConfidence).toFixed(0)} %` : "";
    const btn = el("button", { type: "button", "data-doc": f.document, "aria-current": String(f.document === state.doc),
                               onclick: () => openForm(f.document) },
      el("span", { class: "doc", text: f.document }),
      el("span", { class: "state", text: `${STATE_NAMES[f.state]}${conf}${f.hasOcr ? "" : " · OCR pending"}` }));
    return el("li", {}, btn);
  }));
}

async function filterBy(s) {
  state.filter.state = s;
  await loadQueue();
}

// ---- one form ---------------------------------------------------------------------------------
let opening = 0;

async function openForm(doc, keepResult = false, reload = false, wanted = () => true) {
  if (doc === state.doc && state.form && !reload) return;  // already open: keep the person's edits
  const ticket = ++opening;
  showAlert("");
  if (!keepResult) $("result").textContent = "";
  const form = await api("GET", "form", { folder: state.folder, doc });
  // another form was asked for meanwhile, or (moving on after a save) the person changed the form shown
  if (ticket !== opening || !wanted()) return;
  state.doc = doc;
  state.form = form;
  state.wordText = new Map(form.pages.flatMap((p) => p.words.map((w) => [w.id, w.text])));  // once per form
  state.markState = new Map(form.pages.flatMap((p) => p.marks.map((m) => [m.id, m.state])));
  state.page = 1;
  state.undo = [];
  state.cursor = -1;
  state.fields = form.schema || Object.keys(form.prediction?.fields || {}).map((name) => ({ name, type: "string" }));
  state.values = initialValues(form);
  state.selected = state.fields[0] ? firstSlot(state.fields[0], false) : "";
  $("doc-name").textContent = doc;
  renderQueue();
  renderPageTabs();
  renderFields();
  await showPage(1);  // the form is open (and can be edited and saved) while its page image loads
  if (ticket !== opening) return;
  const source = form.labels ? "its saved labels" : form.prediction ? `the prediction of ${form.prediction.modelId}` : "no labels yet";
  setStatus(form.ocr.ready ? `Opened ${doc} with ${source}.` : `${doc}: OCR has not finished yet; its words will show when it has.`);
}

function initialValues(form) {
  const out = {};
  state.tables = {};
  if (form.labels) {
    for (const [name, v] of Object.entries(form.labels)) {
      const slot = slotOfName(name);
      if (v.mark) out[slot] = { mark: v.mark };
      else if (v.region) out[slot] = { region: v.region };
      else if (v.words?.length) out[slot] = { words: v.words };
    }
    return out;
  }
  for (const [name, p] of Object.entries(form.prediction?.fields || {})) {  // pre-labels
    const slot = slotOfName(name);  // a predicted row is a row even when the model found none of its cells
    if (p.marks?.length && !p.words.length) out[slot] = { mark: p.marks[0], state: p.value || p.text };
    else if (p.words?.length) out[slot] = { words: p.words };
    else if (p.text && p.box) out[slot] = { region: { page: p.page, box: p.box, text: p.text } };
  }
  return out;
}

// ---- table fields: slots of cells, rows -------------------------------------------------------
const MAX_ROWS = 500;
const escPart = (s) => s.replaceAll("~", "~0").replaceAll("/", "~1");
const splitPath = (name) => name.split("/").map((p) => p.replaceAll("~1", "/").replaceAll("~0", "~"));
const isTable = (f) => f.type === "array" || f.type === "object";
function tableOf(name) { return state.fields.find((f) => f.name === name && isTable(f)); }
function rowsOf(name) { return (state.tables[name] ??= []); }
function newRow(pred) { return { id: `#${rowSeq++}`, pred }; }
function cellSlot(f, row, column) {  // row: a dynamic row's id, or a fixed table's row name
  return `${escPart(f.name)}/${f.type === "array" ? row : escPart(row)}/${escPart(column)}`;
}
function tableRows(f) {  // [{id, label, name}]: what the grid shows, in order
  if (f.type === "array") return rowsOf(f.name).map((r, i) => ({ ...r, label: `row ${i + 1}`, name: String(i) }));
  return (f.rows || []).map((name) => ({ id: name, label: name, name }));
}

function slotOfName(name) {  // a label's or prediction's name -> the slot its value is kept under
  const parts = splitPath(name);
  const f = parts.length === 3 ? tableOf(parts[0]) : null;
  if (f?.type !== "array" || !/^\d+$/.test(parts[1]) || Number(parts[1]) >= MAX_ROWS) return name;
  const rows = rowsOf(f.name);
  while (rows.length <= Number(parts[1])) rows.push(newRow(rows.length));
  return cellSlot(f, rows[Number(parts[1])].id, parts[2]);
}

function firstSlot(f, create = true) {  // a field's first slot: a table's first cell (a new row if it has none)
  if (!isTable(f)) return f.name;
  if (!f.columns?.length) return "";
  let row = tableRows(f)[0];
  if (!row && f.type === "array" && create) { row = newRow(null); rowsOf(f.name).push(row); }
  return row ? cellSlot(f, row.id, f.columns[0].name) : "";
}

function savedFields() {  // the values under the names the labels file gives them: rows numbered from 0
  const named = new Map();
  for (const f of state.fields) {
    if (f.type !== "array") continue;
    rowsOf(f.name).forEach((row, i) => {
      for (const c of f.columns || []) named.set(cellSlot(f, row.id, c.name), `${escPart(f.name)}/${i}/${escPart(c.name)}`);
    });
  }
  const fields = {};
  for (const [slot, v] of Object.entries(state.values)) fields[named.get(slot) ?? slot] = v;
  return fields;
}

function snapshot() { state.edits++; state.undo.push({ snapshot: { values: structuredClone(state.values), tables: structuredClone(state.tables) } }); }

function addRow(name) {
  const f = tableOf(name);
  snapshot();
  const row = newRow(null);
  rowsOf(name).push(row);
  state.selected = cellSlot(f, row.id, f.columns[0].name);
  renderFields();
  renderOverlay();
  focusSelected();
  setStatus(`${name}: row ${rowsOf(name).length} added; its first cell is selected.`);
}

function removeRow(name, id) {
  const f = tableOf(name);
  snapshot();
  const at = rowsOf(name).findIndex((r) => r.id === id);
  state.tables[name] = rowsOf(name).filter((r) => r.id !== id);
  const gone = new Set((f.columns || []).map((c) => cellSlot(f, id, c.name)));
  for (const slot of gone) delete state.values[slot];
  if (gone.has(state.selected)) state.selected = "";
  renderFields();
  renderOverlay();
  setStatus(`${name}: row ${at + 1} removed; the rows after it moved up.`);
}

// ---- taking a Layout table: its header row matched to the columns, each further row a row -----------
const fold = (s) => String(s || "").toLowerCase().replace(/[^\p{L}\p{N}]+/gu, "");

function layoutRows(f, lt) {
  const at = new Map(lt.cells.map((c) => [`${c.row},${c.column}`, c]));
  const wanted = new Set(f.columns.map((c) => fold(c.name)));
  let header = new Set(lt.cells.filter((c) => c.header).map((c) => c.row));
  if (!header.size && lt.cells.some((c) => c.row === 0 && wanted.has(fold(c.text)))) header = new Set([0]);
  const caption = new Map();
  for (const c of lt.cells) if (header.has(c.row) && c.text && !caption.has(c.column)) caption.set(c.column, c.text);
  // a fixed table's first Layout column may hold the row names: then it is no column of the field
  const rowNames = new Set((f.rows || []).map(fold));
  const namesFirst = f.type === "object" && !wanted.has(fold(caption.get(0)))
    && (lt.columns > f.columns.length || lt.cells.some((c) => c.column === 0 && rowNames.has(fold(c.text))));
  const from = namesFirst ? 1 : 0;
  const map = new Map();  // Layout column -> the field's column: by caption, then the rest in order
  const free = f.columns.map((c) => c.name);
  for (let k = from; k < lt.columns; k++) {
    const hit = free.find((name) => fold(name) === fold(caption.get(k)));
    if (hit) { map.set(k, hit); free.splice(free.indexOf(hit), 1); }
  }
  const filled = (k) => lt.cells.some((c) => c.column === k && !header.has(c.row) && c.words.length);
  for (let k = from; k < lt.columns && free.length; k++) if (!map.has(k) && (caption.has(k) || filled(k))) map.set(k, free.shift());
  const captions = [...map.keys()].map((k) => fold(caption.get(k))).join("|");
  const rows = [];
  for (let r = 0; r < lt.rows; r++) {
    if (header.has(r)) continue;
    const cells = {};
    for (const [k, column] of map) { const c = at.get(`${r},${k}`); if (c?.words.length) cells[column] = c.words; }
    const texts = [...map.keys()].map((k) => fold(at.get(`${r},${k}`)?.text)).join("|");
    if (!Object.keys(cells).length || (caption.size && texts === captions)) continue;  // empty, or a repeated header
    rows.push({ cells, name: at.get(`${r},0`)?.text || "" });
  }
  return rows;
}

function takeLayoutTable(name, k, append) {
  const f = tableOf(name);
  const lt = pageOf(state.page)?.tables?.[k];
  if (!f || !lt) return;
  const rows = layoutRows(f, lt);
  snapshot();
  if (f.type === "array") {
    if (!append) {
      for (const row of rowsOf(name)) for (const c of f.columns) delete state.values[cellSlot(f, row.id, c.name)];
      state.tables[name] = [];
    }
    for (const taken of rows) {
      const row = newRow(append ? null : rowsOf(name).length);  // replaced: beside the predicted row it replaces
      rowsOf(name).push(row);
      for (const [column, words] of Object.entries(taken.cells)) state.values[cellSlot(f, row.id, column)] = { words: orderIds(words) };
    }
  } else {  // a fixed table: Layout rows to the field's rows by their names, then the rest in order
    const free = [...f.rows];
    const target = rows.map((taken) => {
      const hit = free.find((r) => fold(r) === fold(taken.name));
      if (hit) free.splice(free.indexOf(hit), 1);
      return hit;
    });
    rows.forEach((taken, i) => {
      const row = target[i] ?? free.shift();
      if (!row) return;
      for (const c of f.columns) delete state.values[cellSlot(f, row, c.name)];
      for (const [column, words] of Object.entries(taken.cells)) state.values[cellSlot(f, row, column)] = { words: orderIds(words) };
    });
  }
  const first = tableRows(f)[0];
  state.selected = first ? cellSlot(f, first.id, f.columns[0].name) : "";
  renderFields();
  renderOverlay();
  setStatus(`${append ? "Added" : "Took"} ${rows.length} rows of table ${k + 1} on page ${state.page} ${append ? "to" : "into"} ${name}.`);
}

function pageOf(number) { return state.form.pages.find((p) => p.number === number); }
function pageCount() { return Math.max(state.form.pages.length, state.form.pageCount || 0, 1); }

function renderPageTabs() {
  const tabs = $("page-tabs");
  const n = pageCount();
  tabs.replaceChildren(...Array.from({ length: n }, (_, i) => el("button", {
    type: "button", role: "tab", id: `tab-${i + 1}`, "aria-selected": String(i + 1 === state.page),
    tabindex: i + 1 === state.page ? "0" : "-1", "aria-controls": "viewer", text: `Page ${i + 1}`,
    onclick: () => showPage(i + 1) })));
}

function pageCssWidth(page) {
  if (!page) return null;
  return page.unit === "inch" ? page.width * CSS_PX_PER_INCH : page.width;
}

function applyZoom() {
  const img = $("page-img");
  const page = pageOf(state.page);
  const natural = pageCssWidth(page) || img.naturalWidth;
  let width;
  if (state.zoom === "fit") width = Math.max(200, $("viewer").clientWidth - 32);
  else width = natural * state.zoom;
  img.style.width = `${Math.round(width)}px`;
  $("zoom-level").textContent = state.zoom === "fit" ? `${Math.round(100 * width / natural)} % (fit)` : `${Math.round(state.zoom * 100)} %`;
}

let showing = 0, pageWait = null;  // the latest showPage, and how to end the wait of one still loading

async function showPage(number) {
  const shown = ++showing;
  pageWait?.();  // a page still loading gives way to this one (its wait ends: the form it opens goes on)
  state.page = number;
  for (const tab of $("page-tabs").children) {
    const on = tab.id === `tab-${number}`;
    tab.setAttribute("aria-selected", String(on));
    tab.tabIndex = on ? 0 : -1;
  }
  const img = $("page-img");
  const url = new URL(API + "page", location.origin);
  url.search = new URLSearchParams({ folder: state.folder, doc: state.doc, page: String(number) }).toString();
  const loaded = new Promise((resolve) => { pageWait = resolve; img.onload = resolve; img.onerror = resolve; });
  img.src = url.toString();
  img.alt = `Page ${number} of ${state.doc}`;
  if (state.fields.some(isTable)) renderFields();  // the Layout tables a table field can take are per page
  renderOverlay();
  await loaded;
  if (shown !== showing) return;
  pageWait = null;
  applyZoom();
  document.body.dataset.pageShown = `${state.doc}#${number}`;
}

function pct(box) {
  return { left: `${box[0] * 100}%`, top: `${box[1] * 100}%`, width: `${(box[2] - box[0]) * 100}%`,
           height: `${(box[3] - box[1]) * 100}%` };
}

function place(node, box) { Object.assign(node.style, pct(box)); return node; }

function ownerOf() {
  const owner = {};
  for (const [name, v] of Object.entries(state.values)) {
    for (const id of v.words || []) owner[id] = name;
    if (v.mark) owner[v.mark] = name;
  }
  return owner;
}

function renderOverlay() {
  const overlay = $("overlay");
  const page = pageOf(state.page);
  const owner = ownerOf();
  const nodes = [];
  if (state.fields.some(isTable)) {  // the Layout's tables, beneath the words (they take no clicks)
    (page?.tables || []).forEach((t, k) => t.box && nodes.push(place(el("div", { class: "layout-table",
      "data-table": String(k + 1) }), t.box)));
  }
  for (const w of page?.words || []) {
    const cls = ["word"];
    if (owner[w.id]) cls.push(owner[w.id] === state.selected ? "current" : "assigned");
    nodes.push(place(el("div", { class: cls.join(" "), "data-id": w.id, "data-text": w.text, title: w.text }), w.box));
  }
  for (const m of page?.marks || []) {
    const cls = ["mark"];
    if (owner[m.id]) cls.push(owner[m.id] === state.selected ? "current" : "assigned");
    nodes.push(place(el("div", { class: cls.join(" "), "data-mark": m.id, title: `check box: ${m.state}` }), m.box));
  }
  for (const [name, v] of Object.entries(state.values)) {
    if (v.region && v.region.page === state.page) {
      nodes.push(place(el("div", { class: `region${name === state.selected ? " current" : ""}`, "data-region": name,
                                   title: `${name} (region)` }), v.region.box));
    }
  }
  overlay.replaceChildren(...nodes);
}

// ---- fields -----------------------------------------------------------------------------------
function valueText(name) {
  const v = state.values[name];
  if (!v) return "";
  if (v.words) return orderIds(v.words).map((id) => state.wordText.get(id) ?? "").join(" ");
  if (v.mark) return v.state || state.markState.get(v.mark) || "";
  if (v.region) return v.region.text || "(region)";
  return "";
}

function orderIds(ids) {
  const key = (id) => { const [p, n] = id.split("."); return [Number(p), Number(n.replace("m", ""))]; };
  return [...new Set(ids)].sort((a, b) => { const [pa, na] = key(a), [pb, nb] = key(b); return pa - pb || na - nb; });
}

function isLow(p) {
  const threshold = state.form?.reviewConfidence ?? 0.8;
  return Boolean(p && p.text && (typeof p.confidence !== "number" || p.confidence < threshold));
}

const percent = (p) => `${(100 * (p.confidence ?? 0)).toFixed(0)} %`;

function renderTable(f, i, predicted) {
  const dynamic = f.type === "array";
  const head = el("tr", {}, el("th", { scope: "col", text: dynamic ? "Row" : "" }),
    ...(f.columns || []).map((c) => el("th", { scope: "col", text: c.name })));
  const body = tableRows(f).map((row, r) => {
    const cells = (f.columns || []).map((c) => {
      const slot = cellSlot(f, row.id, c.name);
      const p = dynamic ? (row.pred != null ? predicted[`${escPart(f.name)}/${row.pred}/${escPart(c.name)}`] : null)
        : predicted[slot];
      const low = isLow(p);
      const value = valueText(slot);
      const said = p?.text ? `predicted “${p.text}” at ${percent(p)}` : "";
      const label = `${f.name} ${row.label}, ${c.name}: ${value || "empty"}${said ? `, ${said}` : ""}${low ? ", low confidence" : ""}`;
      return el("td", {}, el("button", {
        type: "button", class: low ? "cell low" : "cell", "data-field": slot, "aria-label": label, title: said,
        "data-cell": `${escPart(f.name)}/${escPart(row.name)}/${escPart(c.name)}`, "aria-pressed": String(slot === state.selected),
        onclick: () => selectField(slot) },
      el("span", { class: "value", text: value || "—" }),
      p?.text ? el("span", { class: "meta" }, low ? el("span", { class: "flag", text: "⚑ " }) : "",
        value === p.text ? percent(p) : said) : ""));
    });
    const remove = dynamic ? el("button", { type: "button", class: "remove-row", text: "×",
      "aria-label": `Remove ${f.name} ${row.label}`, onclick: () => removeRow(f.name, row.id) }) : "";
    return el("tr", {}, el("th", { scope: "row" }, el("span", { text: dynamic ? String(r + 1) : row.name }), remove), ...cells);
  });
  const tables = pageOf(state.page)?.tables || [];
  const takes = tables.map((t, k) => {
    const hot = (on) => $("overlay").querySelector(`.layout-table[data-table="${k + 1}"]`)?.classList.toggle("hot", on);
    const props = (append) => ({ type: "button", onmouseenter: () => hot(true), onmouseleave: () => hot(false),
      onfocus: () => hot(true), onblur: () => hot(false), onclick: () => takeLayoutTable(f.name, k, append) });
    return el("li", {},
      el("button", { ...props(false), "data-take": String(k + 1),
        "aria-label": `Take table ${k + 1} of page ${state.page} (${t.rows} rows) into ${f.name}`, text: `Take table ${k + 1}` }),
      dynamic ? el("button", { ...props(true), "aria-label": `Add the rows of table ${k + 1} of page ${state.page} to ${f.name}`,
        text: "Add its rows" }) : "");
  });
  return el("li", { class: "table-field", "data-table": f.name },
    el("div", { class: "table-head" },
      el("span", { class: "key", text: i < 9 ? String(i + 1) : "" }),
      el("span", { class: "name", text: f.name }),
      el("span", { class: "meta", text: dynamic ? `${rowsOf(f.name).length} rows` : "fixed table" }),
      dynamic ? el("button", { type: "button", text: "Add row", "aria-label": `Add a row to ${f.name}`, onclick: () => addRow(f.name) }) : ""),
    el("div", { class: "grid-wrap" }, el("table", { class: "grid" },
      el("caption", { class: "visually-hidden", text: `Table field ${f.name}` }), el("thead", {}, head), el("tbody", {}, ...body))),
    takes.length ? el("ul", { class: "takes", "aria-label": `Layout tables on page ${state.page}` }, ...takes) : "");
}

function renderFields() {
  const list = $("field-list");
  const predicted = state.form?.prediction?.fields || {};
  $("forms-view").classList.toggle("wide-fields", state.fields.some(isTable));
  list.replaceChildren(...state.fields.map((f, i) => {
    if (isTable(f)) return renderTable(f, i, predicted);
    const p = predicted[f.name];
    const low = isLow(p);
    const meta = p ? (p.text ? `predicted “${p.text}” at ${(100 * (p.confidence ?? 0)).toFixed(0)} %` : "not found by the model") : "";
    const value = valueText(f.name);
    const label = `${f.name}: ${value || "empty"}${low ? ", low confidence" : ""}`;
    const btn = el("button", { type: "button", "data-field": f.name, "aria-pressed": String(f.name === state.selected),
                               "aria-label": label, onclick: () => selectField(f.name) },
      el("span", { class: "key", text: i < 9 ? String(i + 1) : "" }),
      el("span", { class: "name", text: f.name }),
      el("span", { class: "value", text: value || "—" }),
      el("span", { class: "meta" }, low ? el("span", { class: "flag", text: "⚑ check " }) : "", meta));
    return el("li", {}, btn);
  }));
}

function selectField(name) {
  state.selected = name;
  renderFields();
  renderOverlay();
  if (document.activeElement?.closest?.("#field-list")) focusSelected();
}

function focusSelected() {  // the list was drawn again: the keyboard stays on the selected field or cell
  [...$("field-list").querySelectorAll("button")].find((b) => b.dataset.field === state.selected)?.focus();
}

function change(name, value) {
  if (!name) { showAlert("Pick a field first (keys 1–9 or click one)."); return; }
  state.edits++;
  state.undo.push({ name, before: state.values[name] ? structuredClone(state.values[name]) : null });
  if (value) state.values[name] = value; else delete state.values[name];
  renderFields();
  renderOverlay();
}

function fieldType(name) { return state.fields.find((f) => f.name === name)?.type || "string"; }

function toggleWord(id) {
  const cur = state.values[state.selected];
  const words = cur?.words ? [...cur.words] : [];
  const at = words.indexOf(id);
  if (at >= 0) words.splice(at, 1); else words.push(id);
  change(state.selected, words.length ? { words: orderIds(words) } : null);
}

function undo() {
  const last = state.undo.pop();
  if (!last) { setStatus("Nothing to undo."); return; }
  state.edits++;
  if (last.snapshot) Object.assign(state, last.snapshot);  // rows added, removed or taken
  else if (last.before) state.values[last.name] = last.before; else delete state.values[last.name];
  renderFields();
  renderOverlay();
}

// ---- pointer: click a word, drag over words, draw a region ------------------------------------------
let drag = null;

function relative(event) {
  const rect = $("overlay").getBoundingClientRect();
  return [Math.min(1, Math.max(0, (event.clientX - rect.left) / rect.width)),
          Math.min(1, Math.max(0, (event.clientY - rect.top) / rect.height))];
}

function onPointerDown(event) {
  if (event.button !== 0 || !state.form) return;
  drag = { start: relative(event), moved: false, target: event.target };
  event.preventDefault();  // no text selection while dragging; the page keeps the keyboard instead
  $("viewer").focus({ preventScroll: true });
}

function onPointerMove(event) {
  if (!drag) return;
  const [x, y] = relative(event);
  const [x0, y0] = drag.start;
  const rect = $("overlay").getBoundingClientRect();
  if (!drag.moved && Math.hypot((x - x0) * rect.width, (y - y0) * rect.height) < 4) return;
  drag.moved = true;
  const box = [Math.min(x, x0), Math.min(y, y0), Math.max(x, x0), Math.max(y, y0)];
  drag.box = box;
  const shown = $("drag-box");
  shown.hidden = false;
  place(shown, box);
}

function onPointerUp() {
  if (!drag) return;
  const d = drag;
  drag = null;
  $("drag-box").hidden = true;
  if (!d.moved) {
    const word = d.target.closest?.(".word");
    const mark = d.target.closest?.(".mark");
    if (mark) change(state.selected, { mark: mark.dataset.mark });
    else if (word && !state.regionMode) toggleWord(word.dataset.id);
    return;
  }
  if (state.regionMode || !state.form.ocr.ready) {
    const inside = (pageOf(state.page)?.words || []).filter((w) => centreIn(w.box, d.box)).map((w) => w.text).join(" ");
    change(state.selected, { region: { page: state.page, box: d.box.map((v) => +v.toFixed(5)), text: inside } });
    setRegionMode(false);
    return;
  }
  const ids = (pageOf(state.page)?.words || []).filter((w) => centreIn(w.box, d.box)).map((w) => w.id);
  if (ids.length) change(state.selected, { words: orderIds(ids) });
  else setStatus("No words under that box: press R to draw a region for a value without words.");
}

function centreIn(b, box) {
  const cx = (b[0] + b[2]) / 2, cy = (b[1] + b[3]) / 2;
  return cx >= box[0] && cx <= box[2] && cy >= box[1] && cy <= box[3];
}

function setRegionMode(on) {
  state.regionMode = on;
  $("region-mode").setAttribute("aria-pressed", String(on));
  setStatus(on ? `Drag a rectangle for ${state.selected}.` : "");
}

// ---- keyboard word cursor: [ and ] move, Space takes the word ---------------------------------------
function moveCursor(step) {
  const words = pageOf(state.page)?.words || [];
  if (!words.length) return;
  state.cursor = (state.cursor + step + words.length) % words.length;
  for (const node of $("overlay").querySelectorAll(".word.cursor")) node.classList.remove("cursor");
  const w = words[state.cursor];
  $("overlay").querySelector(`[data-id="${CSS.escape(w.id)}"]`)?.classList.add("cursor");
  setStatus(`Word ${state.cursor + 1} of ${words.length}: ${w.text}`);
}

// ---- save and next ----------------------------------------------------------------------------
// One save at a time; after it the page moves on to the next form waiting, unless the person opened a
// form or changed the saved one meanwhile (what they did stays). The form it moves on to can be edited
// and saved as soon as it shows, while its page image still loads.
let saving = "";      // the form whose labels are being written
let movingOn = null;  // {doc, edits, opening}: the save the page is moving on from

async function save() {
  const doc = state.doc, form = state.form;
  if (!form) return;
  if (saving) {  // Enter twice, or on another form opened while one is written: said, not dropped silently
    setStatus(saving === doc ? `Still saving ${doc}…` : `Still saving ${saving}: press Enter again to save ${doc}.`);
    return;
  }
  if (movingOn?.doc === doc && movingOn.edits === state.edits) {  // saved as it is: nothing to save again
    setStatus(`${doc} is saved; opening the next form…`);
    return;
  }
  const asked = { doc, edits: state.edits, opening };
  saving = doc;
  let out;
  try {
    const fields = savedFields();
    const started = performance.now();
    out = await api("PUT", "labels", { folder: state.folder, doc }, { etag: form.labelsEtag, fields });
    form.labelsEtag = out.etag;
    document.body.dataset.lastSaveMs = String(Math.round(performance.now() - started));
  } catch (err) {
    const which = doc === state.doc ? "" : `${doc}: `;
    showAlert(err.status === 409 ? `${which}${err.message}` : `${which}Not saved: ${err.message}`);
    return;
  } finally {
    saving = "";
  }
  showResult(out, doc);
  await next(asked).catch((err) => showAlert(`${doc} is saved, but the next form did not open: ${err.message}`));
}

function showResult(out, doc) {
  const box = $("result");
  const r = out.review;
  let text = `Saved ${out.labels} labels for ${doc}.`;
  if (r && r.trainedOn) text += ` The model ${r.modelId} trained on this form, so it is no review of it.`;
  else if (r) text += ` Review of ${r.modelId}: ${r.agreed} agreed, ${r.corrected} corrected, ${r.missed} missed, ${r.spurious} spurious.`;
  box.replaceChildren(el("p", { text }));
  box.dataset.review = JSON.stringify(r || {});
}

async function next(saved = null) {  // saved: the save to move on from; without it, skip the form shown
  const from = saved ?? { doc: state.doc, edits: state.edits, opening };
  const untouched = () => state.doc === from.doc && state.edits === from.edits;
  if (saved) movingOn = saved;
  try {
    await loadQueue();
    if (opening !== from.opening || !untouched()) return;  // the person opened a form or changed this one: it stays
    const forms = state.queue.forms;
    const order = forms.map((f) => f.document);
    // the next form to review: the first one still waiting, other than the one just done
    const waiting = forms.filter((f) => f.state !== "labeled" && f.document !== from.doc);
    const target = waiting[0]?.document || order[(order.indexOf(from.doc) + 1) % order.length];
    if (target && target !== from.doc) await openForm(target, Boolean(saved), false, untouched);
    else if (saved) setStatus("Every form of this folder is labeled.");
  } finally {
    if (saved && movingOn === saved) {
      movingOn = null;
      if (state.doc === saved.doc && state.edits !== saved.edits) {
        setStatus(`${saved.doc} changed after it was saved, so it stays open: Enter saves it again.`);
      }
    }
  }
}

// ---- schema -----------------------------------------------------------------------------------
function schemaRow(field = { name: "", type: "string" }, at = null) {  // at: its place when the list is drawn anew
  const idx = (at ?? $("schema-rows").children.length) + 1;
  const remove = el("button", { type: "button", "aria-label": `Remove field ${idx}`, text: "Remove", onclick: () => row.remove() });
  const columnNames = (field.columns || []).map((c) => c.name).join(", ");
  if (isTable(field)) {  // declared in fields.json: kept as it is there (its columns are changed in the file)
    const shape = field.type === "array" ? `table: ${columnNames}` : `fixed table: rows ${field.rows.join(", ")}; columns ${columnNames}`;
    const row = el("li", { "data-name": field.name, "data-type": field.type },
      el("input", { type: "text", value: field.name, readonly: true, "aria-label": `Field ${idx} name` }),
      el("span", { class: "table-shape", text: shape }), remove);
    return row;
  }
  const columns = el("input", { type: "text", class: "columns", "aria-label": `Field ${idx} columns`, hidden: true,
                                placeholder: "Description, Quantity:number" });
  const select = el("select", { "aria-label": `Field ${idx} type`, onchange: () => { columns.hidden = select.value !== "array"; } },
    ...state.fieldTypes.map((t) => el("option", { value: t, text: t, selected: t === field.type })),
    el("option", { value: "array", text: "table (rows of columns)" }));
  const row = el("li", {},
    el("input", { type: "text", value: field.name, "aria-label": `Field ${idx} name`, required: true, maxlength: "64" }),
    select, columns, remove);
  return row;
}

function schemaField(li) {  // a row of the fields dialog as the API takes it
  if (li.dataset.type) return { name: li.dataset.name, type: li.dataset.type };  // a declared table: kept
  const name = li.querySelector("input").value.trim(), type = li.querySelector("select").value;
  if (type !== "array") return { name, type };
  const columns = li.querySelector("input.columns").value.split(",").map((c) => c.trim()).filter(Boolean).map((c) => {
    const [col, ctype] = c.split(/\s*:\s*(?=[^:]*$)/);
    return ctype && state.fieldTypes.includes(ctype) ? { name: col, type: ctype } : { name: c, type: "string" };
  });
  return { name, type, columns };
}

function openSchemaDialog(fields) {
  $("schema-note").textContent = fields ? "Renaming a field leaves labels already saved under the old name. "
    + "A table gets its columns here (Name or Name:type, comma-separated); a table already declared is changed in fields.json."
    : "This folder has no fields yet. Name the fields to label; forms are trained on once enough are labeled.";
  $("schema-rows").replaceChildren(...(fields?.length ? fields : [{ name: "", type: "string" }]).map(schemaRow));
  $("schema-dialog").showModal();
}

async function saveSchema(event) {
  event.preventDefault();
  const fields = [...$("schema-rows").children].map(schemaField).filter((f) => f.name);
  try {
    const out = await api("PUT", "fields", { folder: state.folder }, { etag: state.schemaEtag, fields });
    state.schemaEtag = out.etag;
    $("schema-dialog").close();
    state.fields = out.fields;
    if (state.form) state.form.schema = out.fields;
    const still = (f) => (isTable(f) ? state.selected.startsWith(`${escPart(f.name)}/`) : f.name === state.selected);
    if (!state.fields.some(still)) state.selected = state.fields[0] ? firstSlot(state.fields[0], false) : "";
    renderFields();
    if (state.zoom === "fit") applyZoom();  // a table field widens the fields pane
    setStatus(`Saved ${out.fields.length} fields.`);
  } catch (err) {
    $("schema-note").textContent = err.message;
  }
}

// ---- models -----------------------------------------------------------------------------------
async function loadModels() {
  const data = await api("GET", "models", { folder: state.folder });
  const rows = data.models.map((m) => {
    const pct = (v) => (typeof v === "number" ? `${(100 * v).toFixed(1)} %` : "–");
    const fields = m.fields.map((f) => `${f.name} ${pct(f.accuracy)}`).join(", ");
    const action = m.isCurrent ? el("span", { text: "current" })
      : m.status === "ready" ? el("button", { type: "button", text: "Make current", "aria-label": `Make ${m.modelId} current`,
                                             onclick: () => promote(m.modelId) }) : el("span", { text: "" });
    return el("tr", {},
      el("th", { scope: "row", text: m.modelId }),
      el("td", { text: `${m.status}${m.isCurrent ? " (current)" : ""}` }),
      el("td", { text: `${m.trainingDocumentCount ?? "?"} forms${m.newTrainingForms != null
        ? ` (${m.newTrainingForms} the model before it did not see)` : ""} · API ${m.apiVersion || "v2.1"}` }),
      el("td", { text: `${m.promotion || "–"}: ${m.promotionReason || ""}${m.comparison === "none"
        ? " (no comparison)" : ""}` }),
      el("td", { text: m.reviewedAccuracy != null ? `${pct(m.reviewedAccuracy)} of fields right in ${m.reviewedDocuments} reviews` : "no reviews" }),
      el("td", { text: fields || "–" }),
      el("td", {}, action));
  });
  $("models-table").querySelector("tbody").replaceChildren(...rows);
  $("models-caption").textContent = rows.length ? `Models of ${state.folder || "the container root"}, newest first`
    : "No models yet: the folder trains once enough forms are labeled.";
}

async function promote(modelId) {
  try {
    await api("POST", "promote", { folder: state.folder }, { modelId });
    await loadModels();
    await loadQueue();
  } catch (err) { showAlert(err.message); }
}

function showView(models) {
  $("forms-view").hidden = models;
  $("models-view").hidden = !models;
  $("view-forms").setAttribute("aria-pressed", String(!models));
  $("view-models").setAttribute("aria-pressed", String(models));
  if (models) loadModels().catch((e) => showAlert(e.message));
  else $("viewer").focus({ preventScroll: true });  // back at the form: the keys work on it again
}

// ---- keys -------------------------------------------------------------------------------------
function onKey(event) {
  if ($("schema-dialog").open) return;
  const typing = event.target.matches?.("input, select, textarea");
  if (typing) return;
  const onButton = event.target.matches?.("button");
  if (event.key === "Enter" && !onButton) { event.preventDefault(); save(); return; }
  if ((event.ctrlKey || event.metaKey) && event.key === "z") { event.preventDefault(); undo(); return; }
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  if (/^[1-9]$/.test(event.key) && state.fields[Number(event.key) - 1]) { selectField(firstSlot(state.fields[Number(event.key) - 1])); return; }
  if (event.key === "Delete" || event.key === "Backspace") { event.preventDefault(); change(state.selected, null); return; }
  if (event.key === "r" || event.key === "R") { setRegionMode(!state.regionMode); return; }
  if (event.key === "n" || event.key === "N") { next(); return; }
  if ((event.key === "ArrowRight" || event.key === "ArrowLeft") && !onButton) {
    event.preventDefault();  // pages, not a sideways scroll of the page view
    const to = state.page + (event.key === "ArrowRight" ? 1 : -1);
    if (to >= 1 && to <= pageCount()) showPage(to);
    return;
  }
  if (event.target === $("viewer")) {
    if (event.key === "]") moveCursor(1);
    else if (event.key === "[") moveCursor(-1);
    else if (event.key === " " && state.cursor >= 0) {
      event.preventDefault();
      const w = pageOf(state.page)?.words[state.cursor];
      if (w) toggleWord(w.id);
    }
  }
}

function onTabKey(event) {  // arrow keys move between page tabs, as a tablist does
  if (event.key !== "ArrowRight" && event.key !== "ArrowLeft") return;
  event.preventDefault();
  event.stopPropagation();
  const n = pageCount();
  const to = event.key === "ArrowRight" ? Math.min(n, state.page + 1) : Math.max(1, state.page - 1);
  showPage(to).then(() => $(`tab-${to}`)?.focus());
}

function setZoom(z) {
  state.zoom = z;
  applyZoom();
}

function stepZoom(dir) {
  const cur = state.zoom === "fit" ? parseFloat($("page-img").style.width) / (pageCssWidth(pageOf(state.page)) || 1) : state.zoom;
  const next = dir > 0 ? ZOOMS.find((z) => z > cur + 0.001) : [...ZOOMS].reverse().find((z) => z < cur - 0.001);
  if (next) setZoom(next);
}

function init() {
  $("folder").addEventListener("change", (e) => openFolder(e.target.value).catch((err) => showAlert(err.message)));
  $("field-filter").addEventListener("change", (e) => { state.filter.field = e.target.value; loadQueue(); });
  $("view-forms").addEventListener("click", () => showView(false));
  $("view-models").addEventListener("click", () => showView(true));
  $("edit-schema").addEventListener("click", () => openSchemaDialog(state.fields));
  $("schema-add").addEventListener("click", () => $("schema-rows").append(schemaRow()));
  $("schema-form").addEventListener("submit", saveSchema);
  $("schema-cancel").addEventListener("click", () => $("schema-dialog").close());
  $("region-mode").addEventListener("click", () => setRegionMode(!state.regionMode));
  $("clear-field").addEventListener("click", () => change(state.selected, null));
  $("undo").addEventListener("click", undo);
  $("save").addEventListener("click", save);
  $("next").addEventListener("click", () => next());
  $("zoom-in").addEventListener("click", () => stepZoom(1));
  $("zoom-out").addEventListener("click", () => stepZoom(-1));
  $("zoom-100").addEventListener("click", () => setZoom(1));
  $("zoom-fit").addEventListener("click", () => setZoom("fit"));
  $("page-tabs").addEventListener("keydown", onTabKey);
  const overlay = $("overlay");
  overlay.addEventListener("mousedown", onPointerDown);
  window.addEventListener("mousemove", onPointerMove);
  window.addEventListener("mouseup", onPointerUp);
  document.addEventListener("keydown", onKey);
  window.addEventListener("resize", () => state.zoom === "fit" && applyZoom());
  loadFolders().catch((err) => showAlert(err.message));
}

document.addEventListener("DOMContentLoaded", init);
