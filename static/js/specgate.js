// Specgate's page script. Pages work without it; it upgrades them:
// answers save at once (no reload), progress bars and the gate panel update in place,
// a conflicting edit by someone else is shown (never silently overwritten), and
// j/k/p/f/n and "/" work from the keyboard on the review page.
"use strict";

(function () {
  const status = document.getElementById("save-status");

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

  function replaceRow(li, html) {
    const tpl = document.createElement("template");
    tpl.innerHTML = html.trim();
    const fresh = tpl.content.firstElementChild;
    if (!fresh) {
      return li;
    }
    li.replaceWith(fresh);
    bindRow(fresh);
    return fresh;
  }

  function replaceGate(html) {
    const gate = document.getElementById("gate");
    if (gate && html) {
      gate.innerHTML = html;
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

  function showConflict(form, current) {
    clearConflict(form);
    const li = form.closest("li.item");
    const box = document.createElement("div");
    box.className = "conflict";
    box.setAttribute("role", "alert");
    const who = current.answered_by_label || current.answered_by || "Someone";
    const strong = document.createElement("strong");
    strong.textContent = who + " changed this meanwhile: ";
    box.appendChild(strong);
    box.appendChild(document.createTextNode(
      verdictLabel(current.verdict) + (current.note ? " — “" + current.note + "”" : "") + ". "
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
    // The user's own input stays in the form; the version moves to theirs so that
    // "overwrite with mine" is a deliberate save over the newer answer.
    form.elements.version.value = current.version;
    keep.addEventListener("click", function () {
      const radios = form.querySelectorAll('input[name="verdict"]');
      radios.forEach(function (r) { r.checked = r.value === current.verdict; });
      form.elements.note.value = current.note || "";
      li.className = "item v-" + current.verdict;
      box.remove();
      say("Kept " + who + "’s answer.");
    });
    mine.addEventListener("click", function () {
      box.remove();
      submit(form);
    });
    li.classList.add("has-error");
    keep.focus();
  }

  async function submit(form) {
    const li = form.closest("li.item");
    const checked = form.querySelector('input[name="verdict"]:checked');
    if (!checked) {
      showError(form, "Choose pass, fail or N/A.");
      return;
    }
    const note = form.elements.note;
    if (noteNeeded(form, checked.value) && !note.value.trim()) {
      showError(form, checked.value === "fail"
        ? "A fail needs a note: say what is wrong, then save."
        : "N/A on a required item needs a note: say why, then save.");
      note.focus();
      say("Not saved: a note is needed.");
      return;
    }
    if (form.dataset.busy === "1") {
      // One save at a time per item: the newer choice goes out when the first one is back,
      // with the version that save returned (never a conflict with yourself).
      form.dataset.queued = "1";
      return;
    }
    form.dataset.busy = "1";
    li.classList.add("saving");
    say("Saving…");
    let resp;
    try {
      resp = await fetch(form.action, {
        method: "POST",
        body: new FormData(form),
        credentials: "same-origin",
        headers: {
          "Accept": "application/json",
          "X-Requested-With": "XMLHttpRequest",
          "X-CSRFToken": form.elements.csrfmiddlewaretoken.value,
        },
      });
    } catch (e) {
      form.dataset.busy = "";
      form.dataset.queued = "";
      li.classList.remove("saving");
      showError(form, "Could not reach the server; your answer is not saved. Try again.");
      say("Not saved: network error.");
      return;
    }
    form.dataset.busy = "";
    li.classList.remove("saving");
    let data = {};
    try {
      data = await resp.json();
    } catch (e) {
      data = {};
    }
    if (resp.ok && data.ok && form.dataset.queued === "1") {
      form.dataset.queued = "";
      form.elements.version.value = data.response.version;
      submit(form);
      return;
    }
    form.dataset.queued = "";
    if (resp.ok && data.ok) {
      const fresh = replaceRow(li, data.row_html);
      updateCounts("overall", data.progress.overall);
      updateCounts("section-" + data.progress.section.id, data.progress.section);
      replaceGate(data.gate_html);
      fresh.classList.add("saved");
      say(data.changed ? "Saved: " + verdictLabel(data.response.verdict) + "." : "No change.");
      if (document.activeElement === document.body || !document.activeElement) {
        fresh.focus();
      }
      return;
    }
    if (resp.status === 409 && data.current) {
      showError(form, "");
      showConflict(form, data.current);
      say("Not saved: someone else changed this item.");
      return;
    }
    const error = (data && data.error) || {};
    const details = error.details || {};
    const message = (details.note && details.note[0]) || error.message || "Not saved.";
    showError(form, message);
    if (details.note) {
      note.focus();
    }
    say("Not saved: " + message);
  }

  function bindRow(li) {
    const form = li.querySelector("form.answer");
    if (!form) {
      return;
    }
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

  function typing(el) {
    return el && (el.tagName === "TEXTAREA" || el.tagName === "SELECT" ||
      (el.tagName === "INPUT" && el.type !== "radio" && el.type !== "checkbox"));
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
    submit(form);
  }

  function onKey(event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) {
      return;
    }
    const keys = { j: function () { moveFocus(1); }, k: function () { moveFocus(-1); },
      p: function () { answerFocused("pass"); }, f: function () { answerFocused("fail"); },
      n: function () { answerFocused("na"); },
      "/": function () {
        const filter = document.querySelector("[data-filter]");
        if (filter) {
          filter.focus();
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
    if (!target) {
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
    document.addEventListener("keydown", onKey);
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
