/* The order rows a push carries (tradedesk/web/stream_rows.py): the stream's `rows` event brings the rows that
   changed, rendered by the server, and the page puts each one in place of the row it shows, without waiting
   for the fetch the `orders` event also sends (that one brings new rows, the header and the positions).

   Which is newer: a push carries the exact version of its rows (the project's orders counter they were read
   with); every answer of the page's own fetches carries the counter it read before its rows (#orders-rows
   data-stamp), so its rows are at least that version. A push not newer than the table shown is dropped. An
   answer that is older than a row pushed meanwhile (its stamp lower, and its request sent before the push
   came: read after the push came, it is newer whatever its stamp) would put the older row back: the pushed
   row is put in again in the same task, before the page paints. A pushed row the table does not show yet (the
   fetch bringing it is still under way) waits for that answer and goes in after it the same way.

   A push that covers the table (its rows are all that the orders answer would change: the stream says so in
   the `orders` event that follows, "covered <stamp>") spares that answer's fetch when every row of the push
   is in place (an earlier event's fetch queued behind one in flight keeps its place: a spared one never
   reaches htmx's queue, and a queued one is spared only by a table at least as new as its event). An event
   whose change is the table's alone ("table <stamp>": rows in or out, the head) is spared when an answer
   already brought the table to that version, or, while a POST is under way (the order just placed answers
   with the table), once its answer did: when it did not, the fetch goes then. Loaded
   after desk.js (its swap handlers run first; its beforeSwap leaves the parsed answer of a changed-rows poll
   in evt.detail.tdAnswer). */
(function () {
  "use strict";

  var pushed = {}; // order id -> { stamp, html, at } of rows pushed since the last answer at least as new
  var sources = typeof WeakSet === "function" ? new WeakSet() : null;
  var lastPush = { stamp: -1, complete: false }; // the latest push, and whether the table shows all its rows
  var posting = 0; // the page's POSTs under way (an order placed, a cancel: answers that carry the table)
  var tableOwed = -1; // a table-only event's version spared while a POST is under way

  function tbody() {
    return document.querySelector("#orders-panel tbody");
  }

  function tableStamp(root) {
    var token = (root || document).querySelector("#orders-rows");
    return token ? Number(token.getAttribute("data-stamp") || 0) : 0;
  }

  // One row in place of the shown one (none shown: the fetch brings it); the selection is the page's own.
  function place(id, html) {
    var body = tbody();
    var row = body && body.querySelector(':scope > tr[data-order-id="' + id + '"]');
    if (!row) return false;
    var template = document.createElement("template");
    template.innerHTML = "<table><tbody>" + html + "</tbody></table>";
    var incoming = template.content.querySelector("tr[data-order-id]");
    if (!incoming) return false;
    if (row.classList.contains("selected")) {
      incoming.classList.add("selected");
      incoming.setAttribute("aria-selected", "true");
    }
    incoming = document.importNode(incoming, true);
    row.replaceWith(incoming);
    window.htmx.process(incoming);
    return true;
  }

  function onRows(evt) {
    var data;
    try {
      data = JSON.parse(evt.data);
    } catch (error) {
      return;
    }
    if (!data || !Array.isArray(data.rows) || typeof data.stamp !== "number") return;
    if (data.stamp <= tableStamp()) {
      lastPush = { stamp: data.stamp, complete: true }; // the table shown is at least as new
      return;
    }
    var at = performance.now();
    var complete = true;
    data.rows.forEach(function (pair) {
      var id = String(pair[0]);
      if (!place(id, pair[1])) complete = false; // not shown yet: kept for the answer that brings it
      pushed[id] = { stamp: data.stamp, html: pair[1], at: at };
    });
    lastPush = { stamp: data.stamp, complete: complete };
    document.dispatchEvent(new CustomEvent("td:rows-pushed", { detail: { stamp: data.stamp, complete: complete } }));
  }

  // After an answer placed rows (the whole table or the changed rows): pushed rows newer than it go back in.
  function reapply(stamp, xhr) {
    var sentAt = xhr && typeof xhr.tdSentAt === "number" ? xhr.tdSentAt : Infinity;
    Object.keys(pushed).forEach(function (id) {
      var entry = pushed[id];
      if (stamp >= entry.stamp || sentAt > entry.at) delete pushed[id];
      else if (!place(id, entry.html)) {
        delete pushed[id];
        if (entry.stamp === lastPush.stamp) lastPush.complete = false; // its row is gone: fetch
      }
    });
  }

  // The poller's fetch for an `orders` event whose push covered the table: not sent.
  document.addEventListener("htmx:confirm", function (evt) {
    var elt = evt.detail.elt;
    var trigger = evt.detail.triggeringEvent;
    if (!elt || elt.id !== "poller" || !trigger || trigger.type !== "sse:orders") return;
    var told = /^(covered|table) (\d+)$/.exec((trigger.detail && trigger.detail.data) || "");
    if (!told) return;
    var stamp = Number(told[2]);
    if (tableStamp() >= stamp || (told[1] === "covered" && lastPush.stamp === stamp && lastPush.complete)) {
      evt.preventDefault();
    } else if (told[1] === "table" && posting > 0) {
      evt.preventDefault(); // the POST's answer decides (below); a POST never answered, this timer
      if (tableOwed < 0) window.setTimeout(settleOwed, OWED_MS);
      tableOwed = Math.max(tableOwed, stamp);
    }
  });

  var OWED_MS = 3000;
  function settleOwed() {
    if (tableOwed < 0) return;
    var poller = document.getElementById("poller");
    if (tableStamp() < tableOwed && poller) window.htmx.trigger(poller, "td-orders-owed");
    tableOwed = -1;
  }

  document.addEventListener("htmx:beforeRequest", function (evt) {
    var config = evt.detail.requestConfig;
    if (config && config.verb === "post") posting += 1;
  });
  document.addEventListener("htmx:afterRequest", function (evt) {
    var config = evt.detail.requestConfig;
    if (!config || config.verb !== "post") return;
    posting = Math.max(0, posting - 1);
    if (posting === 0) settleOwed();
  });

  document.addEventListener("htmx:sseOpen", function (evt) {
    var source = evt.detail && evt.detail.source;
    if (!source || (sources && sources.has(source))) return;
    if (sources) sources.add(source);
    source.addEventListener("rows", onRows);
  });

  document.addEventListener("htmx:beforeRequest", function (evt) {
    if (evt.detail.xhr) evt.detail.xhr.tdSentAt = performance.now();
  });

  // The changed rows alone (desk.js placed them in its own beforeSwap handler, which ran first).
  document.addEventListener("htmx:beforeSwap", function (evt) {
    var xhr = evt.detail.xhr;
    if (!xhr || xhr.getResponseHeader("TD-Rows") !== "changed" || !evt.detail.shouldSwap) return;
    if (evt.detail.tdAnswer) reapply(tableStamp(evt.detail.tdAnswer), xhr);
  });

  // The whole table (a fetch, an order placed, a cancel).
  document.addEventListener("htmx:afterSwap", function (evt) {
    var xhr = evt.detail.xhr;
    if (!evt.detail.target || evt.detail.target.id !== "orders-panel") return;
    if (xhr && xhr.getResponseHeader("TD-Rows") === "changed") return;
    reapply(tableStamp(), xhr);
  });
})();
