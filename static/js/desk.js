/* The live-trade page's behaviour: confirmation dialog, notices, row clicks, order-status announcements.
   Loaded after htmx and idiomorph (all deferred); no inline script anywhere (CSP script-src 'self'). */
(function () {
  "use strict";

  document.documentElement.classList.add("js");

  // The statuses no event leaves (orders.models.FINAL_STATUSES, rendered on the desk by the server).
  var FINAL_STATUSES = {};
  var desk = document.getElementById("desk");
  ((desk && desk.dataset.finalStatuses) || "").split(" ").forEach(function (status) {
    if (status) FINAL_STATUSES[status] = true;
  });
  var NOTICE_MS = { error: 12000, warning: 9000 };

  // Idiomorph keeps what the trader typed in a positions row (quantity, checkboxes) when the server
  // re-renders the table; everything else follows the server.
  if (window.Idiomorph) {
    window.Idiomorph.defaults.callbacks.beforeAttributeUpdated = function (attr, el) {
      if ((attr === "value" || attr === "checked") && el.hasAttribute && el.hasAttribute("data-keep-value")) {
        return false;
      }
      return true;
    };
    // A value preview (data-morph-keep) is the answer to what the trader typed, which the server's refresh of
    // its panel does not know: the refresh leaves it alone and asks for it again (refreshPreviews).
    window.Idiomorph.defaults.callbacks.beforeNodeMorphed = function (oldNode) {
      return !(oldNode.hasAttribute && oldNode.hasAttribute("data-morph-keep"));
    };
  }

  function $(selector, root) {
    return (root || document).querySelector(selector);
  }

  // Labels rendered by the server in the page's language (data-t-* on the notices region).
  function t(key, fallback) {
    var box = document.getElementById("notices");
    return (box && box.getAttribute("data-t-" + key)) || fallback;
  }

  // ---- Notices (aria-live region) -------------------------------------------------------------------
  // Each notice leaves after a while (errors stay longest); pointing at it or focusing it holds it.
  function armNotice(el) {
    if (el.dataset.armed) return;
    el.dataset.armed = "1";
    startNoticeTimer(el);
    el.addEventListener("mouseenter", function () { holdNotice(el); });
    el.addEventListener("focusin", function () { holdNotice(el); });
    el.addEventListener("mouseleave", function () { startNoticeTimer(el); });
    el.addEventListener("focusout", function () { startNoticeTimer(el); });
  }

  function holdNotice(el) {
    window.clearTimeout(Number(el.dataset.timer));
    el.classList.remove("leaving");
  }

  function startNoticeTimer(el) {
    var level = (el.className.match(/notice-(\w+)/) || [])[1];
    window.clearTimeout(Number(el.dataset.timer));
    el.dataset.timer = String(window.setTimeout(function () {
      el.classList.add("leaving");
      el.dataset.timer = String(window.setTimeout(function () { el.remove(); }, 300));
    }, NOTICE_MS[level] || 6000));
  }

  function notify(text, level) {
    var box = $("#notices");
    if (!box) return;
    var el = document.createElement("div");
    el.className = "notice notice-" + (level || "info");
    var span = document.createElement("span");
    span.className = "notice-text";
    span.textContent = text;
    var close = document.createElement("button");
    close.type = "button";
    close.className = "notice-close";
    close.setAttribute("aria-label", t("dismiss", "Dismiss"));
    close.textContent = "×";
    el.appendChild(span);
    el.appendChild(close);
    box.appendChild(el);
    armNotice(el);
  }

  function armAll() {
    document.querySelectorAll("#notices .notice").forEach(armNotice);
    var box = $("#notices");
    if (box) box.scrollTop = box.scrollHeight; // the newest notice (last) in sight when the stack scrolls
  }

  // ---- Order status changes -------------------------------------------------------------------------
  var known = null;

  function snapshot() {
    var map = {};
    document.querySelectorAll("#orders-panel tr[data-order-id]").forEach(function (row) {
      map[row.dataset.orderId] = row.dataset.status;
    });
    return map;
  }

  function announceChanges() {
    var now = snapshot();
    if (known) {
      Object.keys(now).forEach(function (id) {
        var status = now[id];
        var before = known[id];
        if (status === before || !FINAL_STATUSES[status] || (before && FINAL_STATUSES[before])) return;
        var row = document.getElementById("order-" + id);
        if (!row) return;
        var badge = $(".badge", row);
        var avg = $("[data-testid=order-avg]", row);
        var text = row.dataset.label + " — " + (badge ? badge.textContent.trim() : status);
        if (status === "FILLED" && avg && avg.textContent.trim() !== "—") text += " @ " + avg.textContent.trim();
        var level = status === "FILLED" ? "success" : status === "CANCELED" ? "info" : "error";
        notify(text, level);
      });
    }
    known = now;
  }

  // ---- Confirmation dialog --------------------------------------------------------------------------
  var pending = null;

  function openConfirm(evt) {
    var elt = evt.detail.elt;
    var dialog = $("#confirm-dialog");
    if (!dialog || typeof dialog.showModal !== "function") {
      return; // no dialog support: htmx asks nothing, the server still checks LIVE names
    }
    evt.preventDefault();
    var expected = elt.getAttribute("data-confirm-name");
    $("#confirm-title").textContent = elt.getAttribute("data-confirm-title") || $("#confirm-title").textContent;
    $("#confirm-text").textContent = elt.getAttribute("data-confirm");
    $("#confirm-ok").textContent = elt.getAttribute("data-confirm-ok") || $("#confirm-ok").textContent;
    var field = $("#confirm-name-field");
    var input = $("#confirm-name");
    input.value = "";
    field.hidden = !expected;
    $("#confirm-name-expected").textContent = expected || "";
    // An engine-wide action names its scope instead of the project, and may ask for a reason.
    var scope = elt.getAttribute("data-confirm-scope");
    var asksReason = elt.hasAttribute("data-confirm-reason");
    $("#confirm-project").hidden = !!scope;
    $("#confirm-scope").hidden = !scope;
    $("#confirm-scope strong").textContent = scope || "";
    $("#confirm-reason").value = "";
    $("#confirm-reason-field").hidden = !asksReason;
    $("#confirm-ok").disabled = !!expected || asksReason;
    pending = { evt: evt, elt: elt, expected: expected, asksReason: asksReason };
    dialog.returnValue = "";
    dialog.showModal();
    (expected ? input : asksReason ? $("#confirm-reason") : $("#confirm-cancel")).focus();
  }

  function closeConfirm() {
    var dialog = $("#confirm-dialog");
    var job = pending;
    pending = null;
    if (!job || dialog.returnValue !== "ok") return;
    var typed = $("#confirm-name").value.trim();
    if (job.expected && typed !== job.expected) return;
    if (job.expected) job.elt.dataset.confirmedName = typed;
    var reason = $("#confirm-reason").value.trim();
    if (job.asksReason && !reason) return;
    if (job.asksReason) job.elt.dataset.confirmedReason = reason;
    job.evt.detail.issueRequest(true);
  }

  // ---- "Place anyway" of a positions row ------------------------------------------------------------
  // The refreshes re-render the positions table from the server, which knows nothing of the box a refused
  // row order showed: the page keeps it (ticked or not) per symbol until that row's next order answers.
  var placeAnyway = {};

  function positionRow(symbol) {
    var found = null;
    document.querySelectorAll("#positions-panel tr[data-symbol]").forEach(function (row) {
      if (row.dataset.symbol === symbol) found = row;
    });
    return found;
  }

  function rememberRowAnswer(evt) {
    var source = evt.detail.requestConfig && evt.detail.requestConfig.elt;
    var symbol = source && source.getAttribute && source.getAttribute("data-row-order");
    if (!symbol) return;
    var row = positionRow(symbol);
    var label = row && $(".confirm-inline", row);
    if (label) {
      placeAnyway[symbol] = { node: label.cloneNode(true), checked: $("input", label).checked };
    } else {
      delete placeAnyway[symbol];
    }
  }

  function restorePlaceAnyway() {
    Object.keys(placeAnyway).forEach(function (symbol) {
      var row = positionRow(symbol);
      var qty = row && $(".qty-input", row);
      if (!qty) return;
      var label = $(".confirm-inline", row);
      if (!label) {
        label = placeAnyway[symbol].node.cloneNode(true);
        qty.insertAdjacentElement("afterend", label);
      }
      $("input", label).checked = placeAnyway[symbol].checked;
    });
  }

  document.addEventListener("htmx:afterSettle", function (evt) {
    rememberRowAnswer(evt);
    restorePlaceAnyway();
  });
  document.addEventListener("htmx:oobAfterSwap", restorePlaceAnyway);

  document.addEventListener("change", function (evt) {
    var label = evt.target.closest && evt.target.closest(".confirm-inline");
    var row = label && label.closest("#positions-panel tr[data-symbol]");
    if (row && placeAnyway[row.dataset.symbol]) placeAnyway[row.dataset.symbol].checked = evt.target.checked;
  });

  // ---- Focus after an action ------------------------------------------------------------------------
  // hx-disabled-elt disables the acting button during its request, which drops the focus to <body>; a
  // keyboard trader gets it back on that button (Place order, a dialog-confirmed Close, Cancel all).
  var acting = null;

  document.addEventListener("htmx:beforeRequest", function (evt) {
    var elt = evt.detail.elt;
    if (!elt || elt.hidden || !elt.matches) return;
    if (elt.matches("form")) acting = $("button[type=submit]", elt);
    else if (elt.matches("button")) acting = elt;
  });

  function restoreFocus() {
    if (!acting) return;
    // Chromium blurs a disabled button only at its next frame: until then the focus is still on it, and
    // another request's settle in between must not take that for a deliberate move elsewhere.
    if (document.activeElement === acting) {
      if (!acting.disabled) acting = null;
      return;
    }
    var lost = !document.activeElement || document.activeElement === document.body;
    if (!lost || !acting.isConnected) {
      if (!lost) acting = null;
      return;
    }
    if (acting.disabled) return; // still in flight or disabled by the answer (HALTED): the next settle retries
    acting.focus();
    acting = null;
  }

  document.addEventListener("htmx:afterSettle", restoreFocus);
  document.addEventListener("htmx:afterRequest", function () { window.setTimeout(restoreFocus, 0); });

  // ---- Value previews -------------------------------------------------------------------------------
  // After a refresh of the positions (new prices) or the ticket (an order placed), each preview with something
  // typed asks the server again; an empty quantity clears it.
  function refreshPreviews(evt) {
    var target = evt.detail && evt.detail.target;
    if (!target || !window.htmx) return;
    if (target.id !== "positions-panel" && target.id !== "ticket") return;
    target.querySelectorAll("output.order-preview").forEach(function (preview) {
      if (preview.textContent.trim()) window.htmx.trigger(preview, "refresh");
    });
  }
  document.addEventListener("htmx:afterSettle", refreshPreviews);
  document.addEventListener("htmx:oobAfterSwap", refreshPreviews);

  // ---- Colour convention ----------------------------------------------------------------------------
  // The choice's answer names the convention (HX-Trigger "td-colours"); <html data-colours> carries it, so
  // every colour meaning up, down, buy or sell (--td-up, --td-down, --td-buy, --td-sell) flips at once without
  // a reload. Anything drawn from those variables in script (a chart) redraws on "td-colours-applied".
  document.addEventListener("td-colours", function (evt) {
    var value = evt.detail && evt.detail.value;
    if (value !== "red-up" && value !== "green-up") return;
    document.documentElement.setAttribute("data-colours", value);
    document.dispatchEvent(new CustomEvent("td-colours-applied", { detail: { value: value } }));
  });

  // ---- Wiring ---------------------------------------------------------------------------------------
  document.addEventListener("DOMContentLoaded", function () {
    known = snapshot();
    armAll();
    var dialog = $("#confirm-dialog");
    if (dialog) {
      dialog.addEventListener("close", closeConfirm);
      $("#confirm-name").addEventListener("input", function () {
        $("#confirm-ok").disabled = !!(pending && pending.expected) && this.value.trim() !== pending.expected;
      });
      $("#confirm-reason").addEventListener("input", function () {
        $("#confirm-ok").disabled = !!(pending && pending.asksReason) && !this.value.trim();
      });
    }
    new MutationObserver(armAll).observe($("#notices") || document.body, { childList: true });
  });

  document.addEventListener("htmx:confirm", function (evt) {
    if (evt.detail.elt && evt.detail.elt.hasAttribute("data-confirm")) openConfirm(evt);
  });

  document.addEventListener("htmx:configRequest", function (evt) {
    var elt = evt.detail.elt;
    // An order's first stage time: the click, by this browser's clock (the server clamps it to the commit).
    if (evt.detail.verb === "post" && /\/live-trade\/orders\/new$/.test(evt.detail.path)) {
      evt.detail.parameters.clicked_at = String(Date.now());
    }
    if (elt && elt.dataset && elt.dataset.confirmedName) {
      evt.detail.parameters.confirm_name = elt.dataset.confirmedName;
      delete elt.dataset.confirmedName;
    }
    if (elt && elt.dataset && elt.dataset.confirmedReason) {
      evt.detail.parameters.reason = elt.dataset.confirmedReason;
      delete elt.dataset.confirmedReason;
    }
  });

  document.addEventListener("htmx:afterSettle", announceChanges);

  // ---- Changed rows only ----------------------------------------------------------------------------
  // A poll sends the rows the table shows (#orders-rows: its frame, then each row's order id and version) and
  // may get back only the rows that are new or changed (TD-Rows: changed), with the new rows token out of
  // band: each row then goes where that token says, the rows not named leave. Such an answer is about the
  // table as it was when the poll left: if another answer (an order placed, a cancel) re-rendered the table
  // meanwhile, it is dropped and the poll asks again.
  document.addEventListener("htmx:beforeRequest", function (evt) {
    var rows = $("#orders-rows");
    if (evt.detail.elt && evt.detail.elt.id === "poller" && evt.detail.xhr) {
      evt.detail.xhr.tdRowsSent = rows ? rows.value : "";
    }
  });

  function placeRows(answer) {
    var tbody = $("#orders-panel tbody");
    var token = $("#orders-rows", answer);
    if (!tbody || !token) return false;
    var listed = token.value.split("~")[1] || "";
    var ids = listed ? listed.split(",").map(function (pair) { return pair.split(".")[0]; }) : [];
    var fresh = {};
    answer.querySelectorAll("table[data-td-rows] tr[data-order-id]").forEach(function (row) {
      fresh[row.dataset.orderId] = row;
    });
    var shown = {};
    tbody.querySelectorAll(":scope > tr[data-order-id]").forEach(function (row) {
      shown[row.dataset.orderId] = row;
    });
    if (!ids.length || ids.some(function (id) { return !fresh[id] && !shown[id]; })) return false;
    var empty = $(":scope > tr.empty-row", tbody);
    if (empty) empty.remove();
    var cursor = tbody.firstElementChild;
    ids.forEach(function (id) {
      var row = shown[id];
      delete shown[id];
      if (fresh[id]) {
        var incoming = document.importNode(fresh[id], true);
        if (row) row.replaceWith(incoming);
        if (row === cursor) cursor = incoming;
        row = incoming;
        window.htmx.process(row);
      }
      if (row === cursor) cursor = cursor.nextElementSibling;
      else tbody.insertBefore(row, cursor);
    });
    Object.keys(shown).forEach(function (id) { shown[id].remove(); });
    return true;
  }

  document.addEventListener("htmx:beforeSwap", function (evt) {
    var xhr = evt.detail.xhr;
    if (!xhr || xhr.getResponseHeader("TD-Rows") !== "changed") return;
    var rows = $("#orders-rows");
    var answer = document.createElement("template");
    answer.innerHTML = evt.detail.serverResponse;
    evt.detail.tdAnswer = answer.content; // parsed once: pushed-rows.js reads the answer's stamp from it
    var current = rows && rows.value === xhr.tdRowsSent;
    if (current && placeRows(answer.content)) return;
    evt.detail.shouldSwap = false;
    fullTable = current; // the rows did not fit the table the page shows: ask for all of it, not again for these
    window.htmx.trigger("#poller", "td-rows-moved");
  });
  var fullTable = false;
  document.addEventListener("htmx:configRequest", function (evt) {
    if (!fullTable || !evt.detail.elt || evt.detail.elt.id !== "poller") return;
    fullTable = false;
    delete evt.detail.parameters.rv;
  });

  // Connection state: the page says when it is not live (a poll that fails for any reason: no answer, a 500,
  // a 503; later the stream's drop), with one banner instead of a stream of errors, and the live dot.
  var LIVE_SOURCES = { poller: true, "prices-poller": true };
  var notLive = {};
  function liveState(source, reason) {
    var banner = $("#conn-lost");
    if (reason) notLive[source] = reason; else delete notLive[source];
    var reasons = Object.keys(notLive).map(function (key) { return notLive[key]; });
    document.documentElement.setAttribute("data-live", reasons.length ? "off" : "on");
    if (!banner) return;
    banner.hidden = !reasons.length;
    if (reasons.length) banner.textContent = reasons[0];
  }
  function failureText(xhr) {
    var banner = $("#conn-lost");
    var status = xhr ? xhr.status : 0;
    if (!status) return banner ? banner.getAttribute("data-t-lost") : "Connection lost";
    if (status === 503) return banner.getAttribute("data-t-unavailable");
    return banner.getAttribute("data-t-status").replace("{status}", String(status));
  }
  // The page partials' own error state (orders/partials/error.html) carries the server's message.
  function pageErrorText(xhr) {
    var type = (xhr && xhr.getResponseHeader("Content-Type")) || "";
    if (type.indexOf("text/html") !== 0 || !xhr.responseText) return "";
    var found = new DOMParser().parseFromString(xhr.responseText, "text/html").querySelector("[data-td-error]");
    return found ? found.textContent.trim() : "";
  }
  // The push stream: while it is open the poll timers of [data-td-poll] elements send nothing (its events
  // trigger the same requests); when it drops they poll again and, once it had been open, the page says
  // "reconnecting" (after a moment: a stream ending for its periodic reconnect comes back within a second).
  var streamUp = false, streamOpened = false, reconnectTimer = null;
  document.addEventListener("htmx:sseOpen", function () {
    streamUp = streamOpened = true;
    if (reconnectTimer) { window.clearTimeout(reconnectTimer); reconnectTimer = null; }
    document.documentElement.setAttribute("data-stream", "open");
    liveState("stream", "");
  });
  document.addEventListener("htmx:sseError", function () {
    streamUp = false;
    document.documentElement.setAttribute("data-stream", "down");
    if (!streamOpened || reconnectTimer) return;
    reconnectTimer = window.setTimeout(function () {
      reconnectTimer = null;
      var banner = $("#conn-lost");
      if (!streamUp) liveState("stream", banner ? banner.getAttribute("data-t-reconnecting") : "Reconnecting");
    }, 1500);
  });
  document.addEventListener("htmx:confirm", function (evt) {
    // A poll timer's tick has no triggering event; a stream event or a click has one.
    var elt = evt.detail.elt;
    if (streamUp && elt && elt.hasAttribute("data-td-poll") && !evt.detail.triggeringEvent) evt.preventDefault();
  });
  window.tdLiveState = liveState;
  window.tdFailureText = failureText;
  document.addEventListener("htmx:afterRequest", function (evt) {
    var elt = evt.detail.elt;
    if (!elt || !LIVE_SOURCES[elt.id]) return;
    var xhr = evt.detail.xhr;
    // 204 (nothing changed) and 286 count as answers; any other non-2xx or no answer is "not live".
    liveState(elt.id, evt.detail.successful ? "" : failureText(xhr));
  });
  document.addEventListener("htmx:responseError", function (evt) {
    var status = evt.detail.xhr.status;
    if (evt.detail.elt && LIVE_SOURCES[evt.detail.elt.id]) return;
    var text = pageErrorText(evt.detail.xhr);
    notify(text || (status === 403 ? t("forbidden", "Not allowed: reload the page and try again.")
      : t("failed", "Request failed") + " (" + status + ")"), "error");
  });
  document.addEventListener("htmx:sendError", function (evt) {
    if (evt.detail.elt && LIVE_SOURCES[evt.detail.elt.id]) return;
    notify(t("network", "Network error: the request did not reach the server."), "error");
  });

  document.addEventListener("click", function (evt) {
    var target = evt.target;
    if (target.closest(".notice-close")) {
      target.closest(".notice").remove();
      return;
    }
    // A click anywhere on an order row opens its timeline (the row's link is the keyboard path).
    var row = target.closest("#orders-panel tr[data-order-id]");
    if (row && !target.closest("a, button, input, select, label")) {
      var link = $("a.row-link", row);
      if (link) link.click();
    }
  });

  // A button acting on ticked rows (data-needs-selection) is enabled only while one is ticked.
  // How long each pending update has waited for its engine (the server renders the time it was asked for).
  function age(seconds) {
    if (seconds < 60) return seconds + "s";
    var minutes = Math.floor(seconds / 60);
    if (minutes < 60) return minutes + "m " + String(seconds % 60).padStart(2, "0") + "s";
    return Math.floor(minutes / 60) + "h " + String(minutes % 60).padStart(2, "0") + "m";
  }
  function tickPendingAges() {
    document.querySelectorAll("time[data-since]").forEach(function (el) {
      var since = Date.parse(el.getAttribute("data-since"));
      if (!isNaN(since)) el.textContent = age(Math.max(0, Math.floor((Date.now() - since) / 1000)));
    });
  }
  document.addEventListener("htmx:afterSettle", tickPendingAges);
  window.setInterval(tickPendingAges, 1000);

  function armSelectionButtons() {
    document.querySelectorAll("[data-needs-selection]").forEach(function (button) {
      var ticked = document.querySelector(button.getAttribute("data-needs-selection") + ":checked");
      button.disabled = !ticked;
    });
  }
  document.addEventListener("DOMContentLoaded", armSelectionButtons);
  document.addEventListener("htmx:afterSettle", armSelectionButtons);

  document.addEventListener("change", function (evt) {
    var target = evt.target;
    if (target.matches(".pos-select")) armSelectionButtons();
    if (target.matches("[data-autosubmit]") && target.form) {
      target.form.requestSubmit();
    }
    if (target.matches("[data-order-type]")) {
      // Each price field only for the types that have it (the server lists them on the field).
      if (target.form) {
        target.form.querySelectorAll("[data-type-field]").forEach(function (field) {
          field.hidden = JSON.parse(field.getAttribute("data-types") || "[]").indexOf(target.value) < 0;
        });
      }
      // The outside-RTH checkbox only for the types IB sends it for (the server lists them on the field).
      var outside = target.form && $("[data-outside-rth-field]", target.form);
      if (outside) outside.hidden = JSON.parse(outside.getAttribute("data-types") || "[]").indexOf(target.value) < 0;
    }
    if (target.matches("[data-time-in-force]")) {
      var gtd = target.form && $("[data-gtd-field]", target.form);
      if (gtd) gtd.hidden = target.value !== "GTD";
    }
  });
})();
