// Specgate's page script. Pages work without it; it upgrades them:
// answers save at once (no reload), notes save when left and after a pause in typing (marked
// until saved; leaving the page with one unsaved asks), progress bars and the gate panel update
// in place, so do the actions panel and the sign-off list (a change makes sign-offs stale), a
// conflicting edit by someone else is shown (never silently overwritten), and
// j/k/p/f/n, o (the next open item) and "/" (search) work from the keyboard on the review page
// (never while typing in a field; Escape leaves the field for the item).
"use strict";

(function () {
  const status = document.getElementById("save-status");
  // A note saves after this pause in typing (and at once when its field is left).
  const NOTE_PAUSE_MS = 1000;
  const NOTE_STATES = { unsaved: "Unsaved", saving: "Saving…", saved: "Saved" };
  const CONFLICT_MARK = "Not saved: someone else changed this item (see below).";
  // A save while a conflict is unresolved: it would go over the other person's answer.
  const CONFLICT_CHOOSE = "Someone else changed this item: choose “Keep theirs” or " +
    "“Overwrite with mine” below; nothing is saved until you do.";

  function say(text) {
    if (status) {
      status.textContent = text;
    }
  }

  function setText(el, text) {
    if (el) {
      el.textContent = text;
    }
  }


  function updateCounts(name, p) {
    const bar = document.querySelector('[data-progress="' + name + '"]');
    if (bar) {
      bar.max = p.total || 1;
      bar.value = p.answered || 0;
      bar.textContent = (p.percent || 0) + "%";
    }
    const counts = document.querySelector('[data-counts="' + name + '"]');
    if (counts) {
      setText(counts.querySelector(".c-pass"), (p.pass || 0) + " pass");
      setText(counts.querySelector(".c-fail"), (p.fail || 0) + " fail");
      setText(counts.querySelector(".c-na"), (p.na || 0) + " N/A");
      setText(counts.querySelector(".c-open"), (p.unanswered || 0) + " open");
      setText(counts.querySelector(".muted"), "(" + (p.answered || 0) + "/" + (p.total || 0) + ")");
    }
  }

  function parseRow(html) {
    const tpl = document.createElement("template");
    tpl.innerHTML = html.trim();
    return tpl.content.firstElementChild;
  }

  function replaceRow(li, html) {
    const fresh = parseRow(html);
    if (!fresh) {
      return li;
    }
    li.replaceWith(fresh);
    bindRow(fresh);
    return fresh;
  }

  // The saved row's state without replacing the row: for a save that returns while the reader
  // is still typing in its note (replacing it would take the field, and what was typed since).
  function patchRow(li, html) {
    const fresh = parseRow(html);
    const form = li.querySelector("form.answer");
    const freshForm = fresh && fresh.querySelector("form.answer");
    if (!freshForm) {
      return li;
    }
    li.className = fresh.className;
    form.elements.version.value = freshForm.elements.version.value;
    const before = form.querySelector(".answered");
    const after = freshForm.querySelector(".answered");
    if (before) {
      before.remove();
    }
    if (after) {
      form.append(after);
    }
    return li;
  }

  // A panel's content as the server rendered it for this save (the gate, the actions and the
  // sign-off list: a change makes sign-offs stale, which all three say).
  // What the reader typed or chose in the panel's fields (a comment, an override's
  // justification) stays, and so does the focus.
  function replacePanel(id, html) {
    const panel = document.getElementById(id);
    if (!panel || typeof html !== "string") {
      return;
    }
    const kept = [];
    panel.querySelectorAll("input[id], textarea[id], select[id]").forEach(function (field) {
      if (field.type === "radio" || field.type === "checkbox") {
        kept.push([field.id, "checked", field.checked]);
      } else if (field.tagName === "SELECT" || field.value !== field.defaultValue) {
        kept.push([field.id, "value", field.value]);
      }
    });
    const focused = panel.contains(document.activeElement) ? document.activeElement.id : "";
    panel.innerHTML = html;
    kept.forEach(function (entry) {
      const field = document.getElementById(entry[0]);
      if (field && panel.contains(field) && !field.disabled) {
        field[entry[1]] = entry[2];
      }
    });
    const refocus = focused && document.getElementById(focused);
    if (refocus && panel.contains(refocus)) {
      refocus.focus();
    }
  }

  function verdictLabel(v) {
    return { pass: "Pass", fail: "Fail", na: "N/A", unanswered: "Unanswered" }[v] || v;
  }

  function noteNeeded(form, verdict) {
    return verdict === "fail" || (verdict === "na" && form.dataset.optional !== "1");
  }

  function showError(form, message) {
    const li = form.closest("li.item");
    const err = form.querySelector(".field-error");
    setText(err, message);
    li.classList.toggle("has-error", Boolean(message));
  }

  function clearConflict(form) {
    const old = form.querySelector(".conflict");
    if (old) {
      old.remove();
    }
  }

  // --- what is saved, and what is not yet ----------------------------------------------------

  function chosenVerdict(form) {
    const checked = form.querySelector('input[name="verdict"]:checked');
    return checked ? checked.value : "unanswered";
  }

  function noteText(form) {
    return form.elements.note.value.trim();
  }

  function remember(form, verdict, note) {
    form.dataset.savedVerdict = verdict;
    form.dataset.savedNote = note;
  }

  // The reader's verdict or note differs from the last one the server confirmed.
  function unsaved(form) {
    return form.dataset.savedNote !== undefined && !form.elements.note.readOnly &&
      (noteText(form) !== form.dataset.savedNote || chosenVerdict(form) !== form.dataset.savedVerdict);
  }

  // The note's state next to it ("Unsaved", "Saving…", "Saved", "Not saved: …"), a polite live
  // region made when the note is first touched (so that it exists before it speaks).
  function noteMark(form) {
    let mark = form.querySelector(".note-state");
    if (!mark) {
      const note = form.elements.note;
      mark = document.createElement("span");
      mark.className = "note-state";
      mark.id = "note-state-" + form.closest("li.item").dataset.item;
      mark.setAttribute("role", "status");
      mark.setAttribute("aria-live", "polite");
      note.closest("label").after(mark);
      note.setAttribute("aria-describedby",
        ((note.getAttribute("aria-describedby") || "") + " " + mark.id).trim());
    }
    return mark;
  }

  function markNote(form, state, text) {
    const mark = noteMark(form);
    mark.dataset.state = state;
    mark.textContent = text || NOTE_STATES[state];
  }

  // Only notes the reader touched (or changed) carry a mark; a verdict alone does not need one.
  function markTouched(form, state, text) {
    if (form.querySelector(".note-state") || noteText(form) !== form.dataset.savedNote) {
      markNote(form, state, text);
    }
  }

  function scheduleNote(form) {
    clearTimeout(form.noteTimer);
    form.noteTimer = setTimeout(function () { saveNote(form); }, NOTE_PAUSE_MS);
  }

  function saveNote(form) {
    clearTimeout(form.noteTimer);
    form.noteTimer = null;
    if (!form.isConnected || form.dataset.conflict === "1" || !unsaved(form)) {
      return;
    }
    const sent = form.sent;
    if (form.dataset.busy === "1" && sent && sent.note === noteText(form) &&
        sent.verdict === chosenVerdict(form)) {
      return;  // that very note is on its way
    }
    submit(form, { auto: true });
  }

  function onNoteInput(form) {
    if (form.dataset.conflict === "1") {
      markNote(form, "error", CONFLICT_MARK);
      return;
    }
    if (!unsaved(form)) {
      clearTimeout(form.noteTimer);
      markNote(form, "saved");
      return;
    }
    markNote(form, "unsaved");
    scheduleNote(form);
  }

  function unsavedForms() {
    return Array.from(document.querySelectorAll("form.answer")).filter(function (form) {
      return form.dataset.busy === "1" || unsaved(form);
    });
  }

  function onLeave(event) {
    if (unsavedForms().length) {
      event.preventDefault();
      event.returnValue = "";  // older browsers ask only when this is set
    }
  }

  function showConflict(form, current, quiet) {
    clearConflict(form);
    const li = form.closest("li.item");
    const box = document.createElement("div");
    box.className = "conflict";
    box.setAttribute("role", "alert");
    const who = current.answered_by_label || current.answered_by || "Someone";
    const strong = document.createElement("strong");
    strong.textContent = who + " changed this meanwhile: ";
    box.appendChild(strong);
    // Their note is quoted as written: no full stop after its own closing quote.
    box.appendChild(document.createTextNode(
      verdictLabel(current.verdict) + (current.note ? " — “" + current.note + "” " : ". ")
    ));
    const keep = document.createElement("button");
    keep.type = "button";
    keep.className = "keep-theirs";
    keep.textContent = "Keep theirs";
    const mine = document.createElement("button");
    mine.type = "button";
    mine.className = "overwrite";
    mine.textContent = "Overwrite with mine";
    box.appendChild(keep);
    box.appendChild(document.createTextNode(" "));
    box.appendChild(mine);
    form.querySelector(".field-error").after(box);
    // The user's own input stays in the form, and so does the version the page had: only
    // "overwrite with mine" saves with theirs. Until the reader chooses, no save goes out
    // (Save, a verdict or the note saving on its own).
    form.dataset.conflict = "1";
    markTouched(form, "error", CONFLICT_MARK);
    keep.addEventListener("click", function () {
      const radios = form.querySelectorAll('input[name="verdict"]');
      radios.forEach(function (r) { r.checked = r.value === current.verdict; });
      form.elements.note.value = current.note || "";
      remember(form, current.verdict, (current.note || "").trim());
      form.elements.version.value = current.version;
      form.dataset.conflict = "";
      showError(form, "");
      li.className = "item v-" + current.verdict;
      box.remove();
      markTouched(form, "saved");
      say("Kept " + who + "’s answer.");
    });
    mine.addEventListener("click", function () {
      // Mine is what the reader changed: a verdict or note they left as it was takes theirs.
      if (chosenVerdict(form) === form.dataset.savedVerdict) {
        form.querySelectorAll('input[name="verdict"]').forEach(function (r) {
          r.checked = r.value === current.verdict;
        });
      }
      if (noteText(form) === form.dataset.savedNote) {
        form.elements.note.value = current.note || "";
      }
      box.remove();
      submit(form, { overwrite: current.version });
    });
    li.classList.add("has-error");
    if (!quiet) {
      keep.focus();
    }
  }

  // Saves go out one at a time, in order: each answer's response carries the progress and the
  // gate as of its save, so the last one shown is the newest (a note saving as the reader
  // answers the next item would otherwise put back the older counts).
  let saves = Promise.resolve();

  function inTurn(send) {
    const turn = saves.then(send, send);
    saves = turn.catch(function () {});
    return turn;
  }

  // Saves the item's verdict and note. ``auto``: a note saving on its own (it never takes the
  // focus); ``byKey``: a keyboard shortcut chose the verdict; ``overwrite``: the version of
  // the other person's answer the reader chose to overwrite after a conflict.
  async function submit(form, options) {
    const opts = options || {};
    const li = form.closest("li.item");
    const verdict = chosenVerdict(form);
    const note = form.elements.note;
    if (form.dataset.conflict === "1" && !opts.overwrite) {
      showError(form, CONFLICT_CHOOSE);
      markTouched(form, "error", CONFLICT_MARK);
      say("Not saved: " + CONFLICT_CHOOSE);
      return;
    }
    form.dataset.conflict = "";
    if (verdict === "unanswered" && !opts.auto && !noteText(form)) {
      showError(form, "Choose pass, fail or N/A.");
      return;
    }
    if (noteNeeded(form, verdict) && !noteText(form)) {
      showError(form, (verdict === "fail"
        ? "A fail needs a note: say what is wrong, then save."
        : "N/A on a required item needs a note: say why, then save.") +
        (opts.byKey ? " (Esc returns to the item.)" : ""));
      if (!opts.auto) {
        note.focus();
      }
      markTouched(form, "error", "Not saved: a note is needed.");
      say("Not saved: a note is needed.");
      return;
    }
    if (form.dataset.busy === "1") {
      // One save at a time per item: the newer choice goes out when the first one is back,
      // with the version that save returned (never a conflict with yourself).
      form.dataset.queued = "1";
      return;
    }
    clearTimeout(form.noteTimer);
    form.dataset.busy = "1";
    form.sent = { verdict: verdict, note: noteText(form) };
    const body = new FormData(form);
    body.set("verdict", verdict);  // a note on an item not answered yet saves as unanswered
    if (opts.overwrite) {
      body.set("version", opts.overwrite);
    }
    if (!opts.auto) {
      li.classList.add("saving");
    }
    markTouched(form, "saving");
    say("Saving…");
    let resp;
    let data = {};
    try {
      [resp, data] = await inTurn(function () {
        return fetch(form.action, {
          method: "POST",
          body: body,
          credentials: "same-origin",
          headers: {
            "Accept": "application/json",
            "X-Requested-With": "XMLHttpRequest",
            "X-CSRFToken": form.elements.csrfmiddlewaretoken.value,
          },
        }).then(function (r) {
          return r.json().catch(function () { return {}; }).then(function (d) { return [r, d]; });
        });
      });
    } catch (e) {
      form.dataset.busy = "";
      form.dataset.queued = "";
      li.classList.remove("saving");
      showError(form, "Could not reach the server; your answer is not saved. Try again.");
      markTouched(form, "error", "Not saved: the server could not be reached.");
      say("Not saved: network error.");
      return;
    }
    form.dataset.busy = "";
    li.classList.remove("saving");
    if (resp.ok && data.ok) {
      remember(form, data.response.verdict, data.response.note);
    }
    if (resp.ok && data.ok && form.dataset.queued === "1") {
      form.dataset.queued = "";
      form.elements.version.value = data.response.version;
      submit(form, { auto: true });
      return;
    }
    form.dataset.queued = "";
    if (resp.ok && data.ok) {
      const marked = Boolean(form.querySelector(".note-state"));
      let row;
      if (document.activeElement === note) {
        row = patchRow(li, data.row_html);
        showError(form, "");
      } else {
        row = replaceRow(li, data.row_html);
        if (document.activeElement === document.body || !document.activeElement) {
          row.focus();
        }
      }
      updateCounts("overall", data.progress.overall);
      updateCounts("section-" + data.progress.section.id, data.progress.section);
      replacePanel("gate", data.gate_html);
      replacePanel("actions", data.actions_html);
      replacePanel("signoffs", data.signoffs_html);
      row.classList.add("saved");
      const rowForm = row.querySelector("form.answer");
      if (rowForm && unsaved(rowForm)) {
        markNote(rowForm, "unsaved");  // typed on while it was saving
        scheduleNote(rowForm);
      } else if (rowForm && marked) {
        markNote(rowForm, "saved");
      }
      say(!data.changed ? "No change." : data.response.verdict === "unanswered"
        ? "Saved the note." : "Saved: " + verdictLabel(data.response.verdict) + ".");
      return;
    }
    if (resp.status === 409 && data.current) {
      showError(form, "");
      showConflict(form, data.current, opts.auto);
      say("Not saved: someone else changed this item.");
      return;
    }
    const error = (data && data.error) || {};
    const details = error.details || {};
    const message = (details.note && details.note[0]) || error.message || "Not saved.";
    showError(form, message);
    markTouched(form, "error", "Not saved: " + message);
    if (details.note && !opts.auto) {
      note.focus();
    }
    say("Not saved: " + message);
  }

  function bindRow(li) {
    const form = li.querySelector("form.answer");
    if (!form) {
      return;
    }
    const note = form.elements.note;
    const saved = form.querySelector('input[name="verdict"][checked]');
    remember(form, saved ? saved.value : "unanswered", note.defaultValue.trim());
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      submit(form);
    });
    form.querySelectorAll('input[name="verdict"]').forEach(function (radio) {
      radio.addEventListener("change", function () {
        showError(form, "");
        submit(form);
      });
    });
    note.addEventListener("focus", function () { noteMark(form); });
    note.addEventListener("input", function () { onNoteInput(form); });
    // Leaving the note saves it, unless the focus goes to the item's own verdicts or Save,
    // which save it with the verdict (the pause in typing saves it otherwise).
    note.addEventListener("blur", function (event) {
      if (!(event.relatedTarget && form.contains(event.relatedTarget))) {
        saveNote(form);
      }
    });
    // A conflict the server showed (a save without this script): the same choices, with the
    // other person's answer as what the server holds.
    const shown = form.querySelector(".conflict[data-version]");
    if (shown) {
      const current = { verdict: shown.dataset.verdict, note: shown.dataset.note,
        version: shown.dataset.version, answered_by_label: shown.dataset.who };
      remember(form, current.verdict, current.note.trim());
      showConflict(form, current, true);
    } else if (unsaved(form)) {  // input the browser restored (back, reload) and the server never had
      markNote(form, "unsaved");
      scheduleNote(form);
    }
  }

  // --- sections loaded on demand ----------------------------------------------------------
  // A long review renders some sections collapsed, without their rows; opening one fetches
  // its rows (an HTML fragment). Without this script, their link opens the page with them.

  function loadSection(details) {
    if (!details || !details.dataset.src || details.dataset.loaded === "1") {
      return Promise.resolve(details);
    }
    if (details.loading) {
      return details.loading;
    }
    const body = details.querySelector(".section-body");
    details.classList.add("loading");
    details.setAttribute("aria-busy", "true");
    details.loading = fetch(details.dataset.src, {
      credentials: "same-origin",
      headers: { "Accept": "text/html", "X-Requested-With": "XMLHttpRequest" },
    }).then(function (resp) {
      if (!resp.ok) {
        throw new Error("HTTP " + resp.status);
      }
      return resp.text();
    }).then(function (html) {
      body.innerHTML = html;
      details.dataset.loaded = "1";
      body.querySelectorAll("li.item").forEach(bindRow);
      return details;
    }).catch(function () {
      say("Could not load this section: follow its link to open it.");
      return details;
    }).finally(function () {
      details.loading = null;
      details.classList.remove("loading");
      details.removeAttribute("aria-busy");
    });
    return details.loading;
  }

  function bindSection(details) {
    details.addEventListener("toggle", function () {
      if (details.open) {
        loadSection(details);
      }
    });
  }

  function unloaded(details) {
    return details && details.dataset.src && details.dataset.loaded !== "1";
  }

  // The first section not loaded yet between item ``here`` and item ``next`` (in the direction
  // of ``step``; to the end of the page when there is no ``next``).
  function unloadedBetween(here, next, step) {
    const sections = Array.from(document.querySelectorAll("details.section"));
    const from = sections.indexOf(here.closest("details.section"));
    const to = next ? sections.indexOf(next.closest("details.section"))
      : (step > 0 ? sections.length : -1);
    for (let i = from + step; step > 0 ? i < to : i > to; i += step) {
      if (unloaded(sections[i])) {
        return sections[i];
      }
    }
    return null;
  }

  // --- keyboard ----------------------------------------------------------------------------

  function items() {
    return Array.from(document.querySelectorAll("li.item"));
  }

  function currentItem() {
    const el = document.activeElement;
    return el ? el.closest("li.item") : null;
  }

  // Inputs that take no text: the keys work on them (a verdict's radio is one).
  const NOT_TEXT = ["radio", "checkbox", "button", "submit", "reset", "image", "range", "color",
    "file"];

  // A field the reader types in: the keys are text there, never shortcuts.
  function typing(el) {
    if (!el || el.nodeType !== 1) {
      return false;
    }
    return el.isContentEditable || el.tagName === "TEXTAREA" || el.tagName === "SELECT" ||
      (el.tagName === "INPUT" && NOT_TEXT.indexOf(el.type) === -1);
  }

  // The item the reader was last on (its row, or a field or button in it).
  let lastItemId = null;

  function onFocusIn(event) {
    const li = event.target.closest && event.target.closest("li.item");
    if (li) {
      lastItemId = li.id;
    }
  }

  // Escape in a field: back to its item's row, or to the item the reader was last on.
  function leaveField(field) {
    const li = field.closest("li.item") || (lastItemId && document.getElementById(lastItemId));
    if (li) {
      li.focus();
    } else {
      field.blur();
    }
  }

  async function moveFocus(step) {
    let list = items();
    if (!list.length) {
      return;
    }
    const here = currentItem();
    if (here) {
      const pending = unloadedBetween(here, list[list.indexOf(here) + step], step);
      if (pending) {
        await loadSection(pending);
        list = items();
      }
    }
    let index = here ? list.indexOf(here) + step : (step > 0 ? 0 : list.length - 1);
    index = Math.max(0, Math.min(list.length - 1, index));
    const target = list[index];
    const section = target.closest("details");
    if (section && !section.open) {
      section.open = true;
    }
    target.focus();
    target.scrollIntoView({ block: "nearest" });
  }

  // --- the next open item (key "o") --------------------------------------------------------

  // An open item: unanswered, or to check again after a new revision.
  function isOpen(li) {
    return li.classList.contains("v-unanswered") || li.classList.contains("recheck");
  }

  // A section not loaded yet may hold open items when its progress bar is not full.
  function mayHoldOpen(details) {
    const bar = details.querySelector("summary progress");
    return !bar || Number(bar.value) < Number(bar.max);
  }

  function after(here, li) {
    return Boolean(here.compareDocumentPosition(li) & Node.DOCUMENT_POSITION_FOLLOWING);
  }

  // From the current item (or the top), the next open item in page order, wrapping round to
  // the top; a collapsed section on the way is loaded when its progress says it has one.
  async function nextOpen() {
    const sections = Array.from(document.querySelectorAll("details.section"));
    if (!sections.length) {
      return;
    }
    const here = currentItem() || (lastItemId && document.getElementById(lastItemId)) || null;
    const start = here ? Math.max(0, sections.indexOf(here.closest("details.section"))) : 0;
    for (let n = 0; n <= sections.length; n++) {
      const details = sections[(start + n) % sections.length];
      if (unloaded(details)) {
        if (!mayHoldOpen(details)) {
          continue;
        }
        await loadSection(details);
      }
      const target = Array.from(details.querySelectorAll("li.item")).find(function (li) {
        if (!isOpen(li) || li === here) {
          return false;
        }
        if (!here) {
          return true;
        }
        // The current section: after the item first, before it once round the page.
        return n === 0 ? after(here, li) : (n === sections.length ? !after(here, li) : true);
      });
      if (target) {
        details.open = true;
        target.focus({ preventScroll: true });
        target.scrollIntoView({ block: "center" });
        return;
      }
    }
    say("No open item left: every item is answered.");
  }

  function answerFocused(verdict) {
    const li = currentItem();
    if (!li) {
      return;
    }
    const radio = li.querySelector('input[name="verdict"][value="' + verdict + '"]');
    if (!radio || radio.disabled) {
      return;
    }
    radio.checked = true;
    const form = li.querySelector("form.answer");
    showError(form, "");
    submit(form, { byKey: true });
  }

  function onKey(event) {
    if (event.defaultPrevented || event.isComposing) {
      return;
    }
    if (typing(event.target)) {
      if (event.key === "Escape" && !(event.ctrlKey || event.metaKey || event.altKey)) {
        event.preventDefault();
        leaveField(event.target);
      }
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey) {
      return;
    }
    const keys = { j: function () { moveFocus(1); }, k: function () { moveFocus(-1); },
      p: function () { answerFocused("pass"); }, f: function () { answerFocused("fail"); },
      n: function () { answerFocused("na"); }, o: function () { nextOpen(); },
      "/": function () {
        const search = document.querySelector("[data-search]") ||
          document.querySelector("[data-filter]");
        if (search) {
          search.focus();
          if (search.select) {
            search.select();
          }
        }
      } };
    const handler = keys[event.key];
    if (handler) {
      event.preventDefault();
      handler();
    }
  }

  // A link to #item-<id> or #finding-<id> (the gate panel's) opens the section holding it.
  function revealTarget() {
    const id = decodeURIComponent(location.hash.slice(1));
    const target = id ? document.getElementById(id) : null;
    // A panel (#gate, #actions: the phone bar's links) is left to the browser's own jump,
    // which puts its top in view, below the bar.
    if (!target || target.matches(".panel")) {
      return;
    }
    let section = target.closest("details");
    while (section) {
      section.open = true;
      section = section.parentElement.closest("details");
    }
    target.scrollIntoView({ block: "center" });
    if (target.matches("li.item")) {
      target.focus({ preventScroll: true });
    }
  }

  // The gate panel links to ?item=<id>#item-<id> (the page with that item's section open);
  // when the item is on the page already, jump to it instead.
  function onGateLink(event) {
    const link = event.target.closest("a[data-item-link]");
    if (!link || event.ctrlKey || event.metaKey || event.shiftKey) {
      return;
    }
    const id = "item-" + link.dataset.itemLink;
    if (document.getElementById(id)) {
      event.preventDefault();
      history.pushState(null, "", "#" + id);
      revealTarget();
    }
  }

  function init() {
    window.addEventListener("hashchange", revealTarget);
    const rows = document.querySelectorAll("li.item");
    const sections = document.querySelectorAll("details.section[data-src]");
    if (!rows.length && !sections.length) {
      return;
    }
    sections.forEach(bindSection);
    document.addEventListener("click", onGateLink);
    rows.forEach(bindRow);
    document.addEventListener("focusin", onFocusIn);
    document.addEventListener("keydown", onKey);
    window.addEventListener("beforeunload", onLeave);
    const filter = document.querySelector("[data-filter]");
    if (filter) {
      filter.addEventListener("change", function () { filter.form.submit(); });
    }
    document.documentElement.classList.add("js");
    revealTarget();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
