/* The agent workspace: speaks spec/agent-protocol.md over ws/agent/. No framework, no CDN.
   Every text from the server is rendered with textContent, never as HTML. */
(function () {
  "use strict";

  const $ = (id) => document.getElementById(id);
  const el = (tag, attrs, text) => {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  };
  const readJson = (id) => JSON.parse($(id).textContent);
  // The desk's words come from Django's JavaScript catalog (/jsi18n/, loaded before this file);
  // without it the workspace still works, in English.
  const gettext = window.gettext || ((text) => text);
  const interpolate = window.interpolate || ((format, values) => format.replace(/%\((\w+)\)s/g, (m, key) => String(values[key])));
  const STATUS_LABELS = {
    queued: gettext("queued"), assigned: gettext("assigned"), active: gettext("active"), resolved: gettext("resolved"),
  };
  const PRIORITY_LABELS = { low: gettext("low"), normal: gettext("normal"), high: gettext("high"), urgent: gettext("urgent") };
  const SENDER_LABELS = { shopper: gettext("shopper"), bot: gettext("bot"), agent: gettext("agent"), system: gettext("system") };

  /** "ja" -> "Japanese" (or "日本語" on a Japanese page): the browser's own language names. */
  function languageName(code) {
    if (!code) return "";
    try {
      const names = new Intl.DisplayNames([document.documentElement.lang || "en"], { type: "language" });
      return names.of(code) || code;
    } catch (e) {
      return code;
    }
  }

  const state = {
    socket: null,
    retry: 0,
    me: null,
    escalations: new Map(), // id -> ESCALATION
    forYou: new Set(),
    current: null, // {escalation: id, conversation: hex, transcript: Map(id -> message), watching: bool}
    outbox: new Map(), // client_id -> reply frame not yet acknowledged (resent on reconnect)
    refused: new Map(), // client_id -> {frame, detail}: replies the server refused; never resent
    lastTypingSent: 0,
    typingTimer: null,
  };
  const canned = readJson("ws-canned-data");
  const intents = readJson("ws-intent-data");

  function socketUrl() {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    return scheme + "//" + location.host + $("ws-app").dataset.socketPath;
  }

  function setConnection(stateName, label) {
    const badge = $("ws-connection");
    badge.dataset.state = stateName;
    badge.textContent = label;
  }

  function showError(text) {
    const box = $("ws-error");
    box.textContent = text;
    box.hidden = false;
    clearTimeout(showError.timer);
    showError.timer = setTimeout(() => { box.hidden = true; }, 8000);
  }

  function send(frame) {
    if (state.socket && state.socket.readyState === WebSocket.OPEN) {
      state.socket.send(JSON.stringify(frame));
      return true;
    }
    return false;
  }

  function connect() {
    setConnection("connecting", gettext("Connecting…"));
    const socket = new WebSocket(socketUrl());
    state.socket = socket;
    socket.addEventListener("open", () => {
      state.retry = 0;
      setConnection("open", gettext("Live"));
    });
    socket.addEventListener("message", (event) => {
      let frame;
      try { frame = JSON.parse(event.data); } catch (e) { return; }
      handle(frame);
    });
    socket.addEventListener("close", (event) => {
      if (event.code === 4403) {
        setConnection("closed", gettext("Signed out or not allowed: log in again as a support agent."));
        return; // retrying cannot help
      }
      setConnection("closed", gettext("Disconnected — reconnecting…"));
      const delay = Math.min(15000, 500 * Math.pow(2, state.retry++));
      setTimeout(connect, delay + Math.random() * 300);
    });
  }

  // --- Frames from the server -------------------------------------------------------

  const RETRY_CODES = ["unavailable", "rate_limited"];

  function handle(frame) {
    switch (frame.type) {
      case "queue":
        state.me = frame.me || state.me;
        if (state.me) $("ws-availability").value = state.me.availability;
        state.escalations = new Map(frame.escalations.map((e) => [e.id, e]));
        renderQueue();
        resumeCurrent();
        for (const reply of state.outbox.values()) send(reply); // idempotent by client_id
        break;
      case "escalation":
        upsertEscalation(frame);
        break;
      case "conversation":
        showConversation(frame);
        break;
      case "message":
        if (state.current && frame.conversation === state.current.conversation) {
          addMessage(frame);
          if (frame.sender === "shopper") $("ws-typing").hidden = true;
        }
        break;
      case "typing":
        if (state.current && frame.conversation === state.current.conversation && frame.sender === "shopper") {
          $("ws-typing").hidden = false;
          clearTimeout(state.typingTimer);
          state.typingTimer = setTimeout(() => { $("ws-typing").hidden = true; }, 4000);
        }
        break;
      case "ack":
        state.outbox.delete(frame.client_id);
        renderOutbox();
        break;
      case "availability":
        $("ws-availability").value = frame.availability;
        break;
      case "error":
        // An error that names a reply's client_id is the server's final word on that reply: it
        // leaves the resend queue and stays visible as not sent (the agent can edit it). The
        // exceptions are worth retrying (the database was unreachable, a rate limit): the reply
        // stays queued and goes again on the next reconnect or queue frame.
        if (frame.client_id && state.outbox.has(frame.client_id) && !RETRY_CODES.includes(frame.code)) {
          state.refused.set(frame.client_id, { frame: state.outbox.get(frame.client_id), detail: frame.detail || frame.code });
          state.outbox.delete(frame.client_id);
          renderOutbox();
        } else if (frame.client_id && state.outbox.has(frame.client_id)) {
          const retry = state.outbox.get(frame.client_id);
          setTimeout(() => { if (state.outbox.has(retry.client_id)) send(retry); }, 3000);
        }
        showError(frame.detail || frame.code);
        break;
      default:
        break; // newer frame types: ignore
    }
  }

  function upsertEscalation(frame) {
    const esc = Object.assign({}, frame);
    delete esc.type;
    const known = state.escalations.get(esc.id);
    // A push can arrive after a direct answer that already carried a newer state.
    if (known && typeof known.version === "number" && esc.version < known.version) return;
    if (frame.for_you) {
      state.forYou.add(esc.id);
      flashTitle(gettext("New escalation for you"));
    }
    delete esc.for_you;
    if (esc.status === "resolved") state.escalations.delete(esc.id);
    else state.escalations.set(esc.id, esc);
    renderQueue();
    if (state.current && state.current.escalation === esc.id) {
      state.current.status = esc.status;
      state.current.assignedTo = esc.assigned_to;
      renderConversationHead(esc);
      if (esc.status === "resolved") closeConversation();
    }
  }

  function flashTitle(text) {
    if (document.hasFocus()) return;
    const original = document.title;
    document.title = "● " + text;
    window.addEventListener("focus", () => { document.title = original; }, { once: true });
  }

  const STATUS_ORDER = { active: 0, assigned: 1, queued: 2 };
  const PRIORITY_ORDER = { urgent: 0, high: 1, normal: 2, low: 3 };

  function renderQueue() {
    const list = $("ws-queue");
    const items = [...state.escalations.values()].sort((a, b) =>
      (STATUS_ORDER[a.status] - STATUS_ORDER[b.status]) ||
      (PRIORITY_ORDER[a.priority] - PRIORITY_ORDER[b.priority]) ||
      a.created.localeCompare(b.created));
    list.replaceChildren();
    for (const esc of items) {
      const li = el("li", {
        "data-testid": "escalation", "data-id": esc.id, "data-status": esc.status, tabindex: "0",
      });
      if (state.forYou.has(esc.id) && esc.status === "assigned") li.classList.add("ws-for-you");
      if (state.current && state.current.escalation === esc.id) li.setAttribute("aria-current", "true");
      const head = el("div");
      head.append(el("span", { class: "ws-badge", "data-priority": esc.priority }, PRIORITY_LABELS[esc.priority] || esc.priority));
      head.append(el("span", { class: "ws-badge" }, STATUS_LABELS[esc.status] || esc.status));
      if (esc.language) {
        head.append(el("span", { class: "ws-badge", "data-testid": "escalation-language", lang: esc.language, title: languageName(esc.language) }, esc.language.toUpperCase()));
      }
      head.append(el("strong", {}, "#" + esc.id + " " + (esc.reason_label || esc.reason)));
      li.append(head);
      li.append(el("div", { class: "ws-muted" }, esc.summary));
      const who = esc.assigned_to ? "→ " + (esc.assigned_name || esc.assigned_to) : gettext("unassigned");
      li.append(el("div", { class: "ws-muted" }, who + " · " + new Date(esc.created).toLocaleTimeString()
        + (esc.after_hours ? " · " + gettext("after hours") : "")));
      li.addEventListener("click", () => openEscalation(esc.id));
      li.addEventListener("keydown", (e) => { if (e.key === "Enter") openEscalation(esc.id); });
      list.append(li);
    }
    $("ws-queue-empty").hidden = items.length > 0;
  }

  function openEscalation(id) {
    const esc = state.escalations.get(id);
    if (!esc) return;
    const mine = esc.status === "active" && state.me && esc.assigned_to === state.me.username;
    // Claiming again is idempotent for the holder and re-subscribes to live messages.
    send(mine ? { type: "claim", escalation: id } : { type: "open", escalation: id });
  }

  function resumeCurrent() {
    if (!state.current) return;
    if (!state.escalations.has(state.current.escalation)) { closeConversation(); return; }
    openEscalation(state.current.escalation);
  }

  function closeConversation() {
    state.current = null;
    $("ws-conversation").hidden = true;
    $("ws-packet").hidden = true;
    $("ws-no-conversation").hidden = false;
    renderQueue();
  }

  function showConversation(frame) {
    const esc = frame.escalation;
    const known = state.escalations.get(esc.id);
    if (!known || !(known.version > esc.version)) state.escalations.set(esc.id, esc);
    state.current = {
      escalation: esc.id, conversation: frame.conversation, status: esc.status,
      assignedTo: esc.assigned_to, transcript: new Map(),
    };
    state.forYou.delete(esc.id);
    $("ws-no-conversation").hidden = true;
    $("ws-conversation").hidden = false;
    $("ws-packet").hidden = false;
    $("ws-transcript").replaceChildren();
    for (const message of frame.transcript) addMessage(message);
    renderOutbox();
    renderConversationHead(esc);
    renderPacket(frame.context || {});
    renderOrders(frame.customer || { orders: [] }, frame.shopper_email);
    renderLabelChoices(frame.transcript, frame.label_candidates || []);
    renderQueue();
  }

  function renderConversationHead(esc) {
    const mine = esc.status === "active" && state.me && esc.assigned_to === state.me.username;
    $("ws-conv-title").textContent = "#" + esc.id + " · " + (esc.reason_label || esc.reason) + " · " + (STATUS_LABELS[esc.status] || esc.status)
      + (esc.assigned_to ? " · " + (esc.assigned_name || esc.assigned_to) : "");
    // The language the shopper is answered in: the agent replies in it too.
    $("ws-conv-language").textContent = esc.language
      ? interpolate(gettext("Conversation language: %(language)s"), { language: languageName(esc.language) + " (" + esc.language + ")" }, true)
      : "";
    $("ws-conv-summary").textContent = esc.summary || "";
    $("ws-claim").hidden = mine || esc.status === "resolved";
    $("ws-claim").disabled = esc.status === "active" && !mine;
    $("ws-release").hidden = !mine;
    $("ws-reply").disabled = !mine;
    $("ws-send").disabled = !mine;
    $("ws-canned").disabled = !mine;
  }

  function addMessage(message) {
    const current = state.current;
    if (!current || current.transcript.has(message.id)) return;
    current.transcript.set(message.id, message);
    const li = el("li", { "data-testid": "ws-msg", "data-sender": message.sender, "data-id": message.id });
    li.append(document.createTextNode(message.text));
    const meta = (SENDER_LABELS[message.sender] || message.sender) + " · " + new Date(message.created).toLocaleTimeString()
      + (message.intent ? " · " + message.intent + (message.confidence != null ? " (" + Number(message.confidence).toFixed(2) + ")" : "") : "");
    li.append(el("span", { class: "ws-meta" }, meta));
    const list = $("ws-transcript");
    // Keep server order (ids increase) even if a live frame overtakes the snapshot; replies not
    // yet stored (sending, not sent) stay last.
    const after = [...list.children].find((node) => node.dataset.testid === "ws-outbox" || Number(node.dataset.id) > message.id);
    list.insertBefore(li, after || null);
    list.scrollTop = list.scrollHeight;
  }

  // The agent's replies of this conversation that the server has not stored: "sending" until
  // acknowledged (the stored message then arrives as a frame), "failed" once refused.
  function renderOutbox() {
    const list = $("ws-transcript");
    for (const node of list.querySelectorAll('[data-testid="ws-outbox"]')) node.remove();
    if (!state.current) return;
    const mine = (frame) => frame.conversation === state.current.conversation;
    for (const frame of state.outbox.values()) {
      if (!mine(frame)) continue;
      const li = el("li", { "data-testid": "ws-outbox", "data-state": "sending", "data-sender": "agent", "data-client-id": frame.client_id });
      li.append(document.createTextNode(frame.text));
      li.append(el("span", { class: "ws-meta" }, gettext("sending…")));
      list.append(li);
    }
    for (const [clientId, failed] of state.refused) {
      if (!mine(failed.frame)) continue;
      const li = el("li", { "data-testid": "ws-outbox", "data-state": "failed", "data-sender": "agent", "data-client-id": clientId });
      li.append(document.createTextNode(failed.frame.text));
      li.append(el("span", { class: "ws-meta ws-not-sent", "data-testid": "not-sent" }, interpolate(gettext("Not sent: %(reason)s"), { reason: failed.detail }, true)));
      const edit = el("button", { type: "button", class: "ws-edit", "data-testid": "edit-not-sent" }, gettext("Edit"));
      edit.addEventListener("click", () => {
        state.refused.delete(clientId);
        $("ws-reply").value = failed.frame.text;
        $("ws-reply").focus();
        renderOutbox();
      });
      li.append(edit);
      list.append(li);
    }
    list.scrollTop = list.scrollHeight;
  }

  function renderPacket(context) {
    const dl = $("ws-packet-list");
    dl.replaceChildren();
    const row = (term, value) => { dl.append(el("dt", {}, term)); dl.append(value); };
    const intentsList = el("dd");
    for (const item of context.intents || []) {
      const text = typeof item === "object" && item !== null
        ? (item.intent || "?") + (item.confidence != null ? " (" + Number(item.confidence).toFixed(2) + ")" : "")
        : String(item);
      intentsList.append(el("div", {}, text));
    }
    if (!intentsList.childNodes.length) intentsList.textContent = "—";
    row(gettext("Intents"), intentsList);
    const entities = el("dd");
    for (const [key, value] of Object.entries(context.entities || {})) {
      entities.append(el("div", {}, key + ": " + (typeof value === "object" ? JSON.stringify(value) : value)));
    }
    if (!entities.childNodes.length) entities.textContent = "—";
    row(gettext("Entities"), entities);
    row(gettext("Verified order"), el("dd", { "data-testid": "verified-order" }, context.verified_order || gettext("none")));
    const actions = el("dd");
    for (const action of context.actions || []) {
      actions.append(el("div", {}, typeof action === "object" && action !== null
        ? (action.action || action.name || "action") + ": " + (action.outcome || action.result || JSON.stringify(action))
        : String(action)));
    }
    if (!actions.childNodes.length) actions.textContent = "—";
    row(gettext("Actions tried"), actions);
    row(gettext("Last message"), el("dd", {}, context.last_message || "—"));
  }

  function renderOrders(customer, shopperEmail) {
    const box = $("ws-orders");
    box.replaceChildren();
    if (customer.customer && customer.customer.email) {
      box.append(el("p", { class: "ws-muted" }, interpolate(gettext("Verified: %(email)s"), { email: customer.customer.email }, true)));
    } else if (shopperEmail) {
      box.append(el("p", { class: "ws-muted" }, interpolate(gettext("E-mail left by the shopper (not verified): %(email)s"), { email: shopperEmail }, true)));
    }
    if (!customer.orders || !customer.orders.length) {
      box.append(el("p", { class: "ws-empty" }, gettext("No verified orders in this conversation.")));
      return;
    }
    for (const order of customer.orders) {
      const div = el("div", { class: "ws-order" });
      const link = $("ws-app").dataset.orderLinks
        ? el("a", { href: order.admin_url, target: "_blank", rel: "noopener" }, interpolate(gettext("Order %(number)s"), { number: order.number }, true))
        : el("strong", {}, interpolate(gettext("Order %(number)s"), { number: order.number }, true));
      div.append(link);
      div.append(el("div", {}, order.status_display + " · " + order.total_text + " · " + new Date(order.placed_at).toLocaleDateString()));
      if (order.tracking_number) div.append(el("div", { class: "ws-muted" }, (order.carrier || "") + " " + order.tracking_number));
      for (const line of order.lines) div.append(el("div", { class: "ws-muted" }, line));
      for (const ret of order.returns) {
        div.append(el("div", {}, interpolate(gettext("Return %(rma)s: %(status)s (%(reason)s, %(refund)s)"), { rma: ret.rma_number, status: ret.status_display, reason: ret.reason_display, refund: ret.refund_text }, true)));
      }
      box.append(div);
    }
  }

  function renderLabelChoices(transcript, candidates) {
    const list = $("ws-label-messages");
    list.replaceChildren();
    const picked = new Set(candidates);
    for (const message of transcript.filter((m) => m.sender === "shopper").slice(-10)) {
      const id = "ws-label-" + message.id;
      const li = el("li");
      const box = el("input", { type: "checkbox", id: id, value: message.id });
      box.checked = picked.has(message.id);
      li.append(box);
      li.append(el("label", { for: id }, " " + message.text.slice(0, 160)));
      list.append(li);
    }
    $("ws-intent").value = "";
  }

  // --- The agent's actions ------------------------------------------------------------

  function newClientId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return "c" + Date.now().toString(36) + Math.random().toString(36).slice(2);
  }

  function sendReply() {
    const input = $("ws-reply");
    const text = input.value.trim();
    if (!text || !state.current) return;
    const frame = { type: "reply", conversation: state.current.conversation, text: text, client_id: newClientId() };
    state.outbox.set(frame.client_id, frame);
    renderOutbox();
    if (!send(frame)) showError(gettext("Not connected — your reply will be sent when the connection is back."));
    input.value = "";
  }

  function expandShortcut(input) {
    const match = /(^|\s)\/([\w-]+)$/.exec(input.value);
    if (!match) return false;
    const reply = canned.find((c) => c.shortcut === match[2]);
    if (!reply) return false;
    input.value = input.value.slice(0, input.value.length - match[2].length - 1) + reply.text;
    return true;
  }

  function bind() {
    for (const reply of canned) $("ws-canned").append(el("option", { value: reply.id }, reply.title + " (/" + reply.shortcut + ")"));
    for (const label of intents) $("ws-intent").append(el("option", { value: label }, label));

    $("ws-canned").addEventListener("change", (e) => {
      const reply = canned.find((c) => String(c.id) === e.target.value);
      if (reply) {
        const input = $("ws-reply");
        input.value = input.value ? input.value + " " + reply.text : reply.text;
        input.focus();
      }
      e.target.value = "";
    });
    $("ws-reply-form").addEventListener("submit", (e) => { e.preventDefault(); sendReply(); });
    $("ws-reply").addEventListener("keydown", (e) => {
      if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); sendReply(); }
      if (e.key === "Tab" && expandShortcut(e.target)) e.preventDefault();
    });
    $("ws-reply").addEventListener("input", () => {
      const now = Date.now();
      if (state.current && now - state.lastTypingSent > 2000) {
        state.lastTypingSent = now;
        send({ type: "typing", conversation: state.current.conversation });
      }
    });
    $("ws-claim").addEventListener("click", () => {
      if (state.current) send({ type: "claim", escalation: state.current.escalation });
    });
    $("ws-release").addEventListener("click", () => {
      if (state.current && confirm(gettext("Hand this conversation back to the bot?"))) {
        send({ type: "release", conversation: state.current.conversation });
      }
    });
    $("ws-resolve-form").addEventListener("submit", (e) => {
      e.preventDefault();
      if (!state.current) return;
      const messages = [...$("ws-label-messages").querySelectorAll("input:checked")].map((box) => Number(box.value));
      const intent = $("ws-intent").value || null;
      send({
        type: "resolve", escalation: state.current.escalation, intent: intent,
        messages: messages, note: $("ws-note").value, better_answer: $("ws-better").value,
      });
      $("ws-note").value = "";
      $("ws-better").value = "";
    });
    $("ws-availability").addEventListener("change", (e) => send({ type: "availability", availability: e.target.value }));
    // Keep the agent routable while the page is open (the server also heartbeats).
    setInterval(() => send({ type: "ping" }), 30000);
  }

  bind();
  connect();
})();
