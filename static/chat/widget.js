/*
 * Storefront chat widget.
 *
 * Mounts itself into <div id="chat-widget" data-ws-path="/ws/chat/"> and speaks the shopper
 * chat protocol (shared/spec/chat-protocol.md, plus ?language=, docs/i18n.md) over one
 * WebSocket. No dependencies; its words come from Django's JavaScript catalog (/jsi18n/).
 *
 * Safety line: every string that comes from the shopper, the bot, an agent or the server
 * reaches the page through textContent or a checked attribute (links and images only with
 * http(s) or same-origin URLs). The DOM is built with createElement; no markup is ever parsed
 * from data. tests/bot/test_widget_static.py holds that line.
 *
 * Written in ES2017 (no optional chaining, no object spread) so the Python-side parser in the
 * static test can read it and older phone browsers can run it.
 */
(function () {
  "use strict";

  var TOKEN_KEY = "shopChat.token";
  var OUTBOX_KEY = "shopChat.outbox";
  var OPEN_KEY = "shopChat.open";
  var RATED_KEY = "shopChat.rated";
  var MAX_LEN = 2000;
  var COUNTER_FROM = 1800;
  var BACKOFF_MIN_MS = 500;
  var BACKOFF_MAX_MS = 15000;
  var CONNECT_TIMEOUT_MS = 10000;
  var TYPING_SEND_EVERY_MS = 3000;
  var TYPING_SHOW_MS = 6000;
  var RATE_LIMIT_RETRY_MS = 5000;
  var UNAVAILABLE_RETRY_MAX_MS = 30000;
  // A socket that closes sooner than this after opening does not reset the back-off: a server
  // that drops each connection must not be reconnected to (and resent to) in a tight loop.
  var STABLE_AFTER_MS = 10000;
  // Resent on this many connections without an ack or an error: stop and mark it "Not sent".
  var MAX_RESENDS = 5;
  // Closed by the server for too many connections or refused frames: wait long before trying again.
  var CLOSE_RATE_LIMITED = 4429;
  // Error codes that mean "try again later"; every other error about a message refuses it for good.
  var RETRY_CODES = { rate_limited: true, unavailable: true };
  // Variant chips shown on a product card; the rest collapse behind a "+N more" button.
  var MAX_VARIANTS = 4;
  var SVG_NS = "http://www.w3.org/2000/svg";

  // The widget's words come from Django's JavaScript catalog (/jsi18n/, a script the page loads
  // before this one) in the page's language; without it the widget still works, in English.
  var gettext = window.gettext || function (text) { return text; };
  var ngettext = window.ngettext || function (one, other, n) { return n === 1 ? one : other; };
  var pgettext = window.pgettext || function (context, text) { return text; };
  var interpolate = window.interpolate || function (format, values) {
    return format.replace(/%\((\w+)\)s/g, function (m, key) { return String(values[key]); });
  };

  function say(format, values) {
    return interpolate(format, values, true);
  }

  var ERROR_TEXT = {
    bad_json: gettext("That message could not be read. Please try again."),
    unknown_type: gettext("That action is not supported."),
    empty_text: gettext("Please type a message first."),
    too_long: say(gettext("Messages can be at most %(count)s characters."), { count: MAX_LEN }),
    rate_limited: gettext("You're sending messages quickly. We'll retry in a moment."),
    bad_token: gettext("We couldn't restore your earlier conversation, so we started a new one."),
    binary_frame: gettext("That message could not be read. Please try again."),
    bad_frame: gettext("That message could not be read. Please try again."),
    bad_text: gettext("That message has characters we can't store. Please retype it."),
    client_id_reused: gettext("That message could not be sent. Please send it again."),
    not_delivered: gettext("The chat server did not accept it.")
  };

  // --- Small helpers ---------------------------------------------------------------------

  function str(value) {
    return value === null || value === undefined ? "" : String(value);
  }

  function storageGet(area, key) {
    try {
      return window[area].getItem(key);
    } catch (e) {
      return null; // storage blocked (private mode, cookies off): work without it
    }
  }

  function storageSet(area, key, value) {
    try {
      if (value === null || value === undefined) window[area].removeItem(key);
      else window[area].setItem(key, value);
    } catch (e) {
      /* quota or blocked storage: the widget still works for this page view */
    }
  }

  function newClientId() {
    var c = window.crypto;
    if (c && typeof c.randomUUID === "function") {
      try {
        return c.randomUUID();
      } catch (e) {
        /* randomUUID exists only in secure contexts; fall through */
      }
    }
    var bytes = new Uint8Array(16);
    if (c && typeof c.getRandomValues === "function") c.getRandomValues(bytes);
    else for (var i = 0; i < 16; i++) bytes[i] = Math.floor(Math.random() * 256);
    bytes[6] = (bytes[6] & 0x0f) | 0x40; // version 4
    bytes[8] = (bytes[8] & 0x3f) | 0x80; // RFC 4122 variant
    var hex = [];
    for (var j = 0; j < 16; j++) hex.push((bytes[j] + 0x100).toString(16).slice(1));
    return (
      hex.slice(0, 4).join("") + "-" + hex.slice(4, 6).join("") + "-" + hex.slice(6, 8).join("") +
      "-" + hex.slice(8, 10).join("") + "-" + hex.slice(10, 16).join("")
    );
  }

  /** A link or image address from the server: http(s) or a same-origin path, else null. */
  function safeUrl(raw) {
    if (typeof raw !== "string") return null;
    var value = raw.trim();
    if (!value) return null;
    var url;
    try {
      url = new URL(value, window.location.href);
    } catch (e) {
      return null;
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") return null; // javascript:, data:, ...
    return url.href;
  }

  function isSameOrigin(href) {
    try {
      return new URL(href).origin === window.location.origin;
    } catch (e) {
      return false;
    }
  }

  function pageLocale() {
    var lang = document.documentElement.getAttribute("lang");
    return lang ? [lang] : [];
  }

  function formatTime(iso) {
    var date = iso ? new Date(iso) : new Date();
    if (isNaN(date.getTime())) date = new Date();
    var label;
    var full;
    try {
      label = date.toLocaleTimeString(pageLocale(), { hour: "numeric", minute: "2-digit" });
      if (date.toDateString() !== new Date().toDateString()) {
        label = date.toLocaleDateString(pageLocale(), { month: "short", day: "numeric" }) + ", " + label;
      }
      full = date.toLocaleString(pageLocale());
    } catch (e) {
      label = date.toISOString().slice(11, 16);
      full = date.toISOString();
    }
    return { iso: date.toISOString(), label: label, full: full };
  }

  function formatMoney(amount, currency) {
    var text = str(amount).trim();
    if (!text) return "";
    var number = Number(text);
    var code = str(currency).trim();
    if (code && isFinite(number)) {
      try {
        return new Intl.NumberFormat(pageLocale(), { style: "currency", currency: code }).format(number);
      } catch (e) {
        /* unknown currency code: fall back to the plain text below */
      }
    }
    return code ? text + " " + code : text;
  }

  /** "2026-11-05" is a calendar day, not UTC midnight: parse it as a local date. */
  function formatDay(value) {
    var text = str(value).trim();
    if (!text) return "";
    var m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
    var date = m ? new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : new Date(text);
    if (isNaN(date.getTime())) return text;
    try {
      return date.toLocaleDateString(pageLocale(), { weekday: "short", month: "short", day: "numeric" });
    } catch (e) {
      return text;
    }
  }

  /** createElement with a few known props; data strings only ever go through textContent. */
  function el(tag, props, children) {
    var node = document.createElement(tag);
    if (props) {
      Object.keys(props).forEach(function (key) {
        var value = props[key];
        if (value === null || value === undefined || value === false) return;
        if (key === "className") node.className = value;
        else if (key === "text") node.textContent = str(value);
        else node.setAttribute(key, value === true ? "" : String(value));
      });
    }
    (children || []).forEach(function (child) {
      if (child === null || child === undefined || child === false) return;
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  function svgIcon(paths, className) {
    var svg = document.createElementNS(SVG_NS, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    svg.setAttribute("class", className || "sc-icon");
    paths.forEach(function (d) {
      var path = document.createElementNS(SVG_NS, "path");
      path.setAttribute("d", d);
      svg.appendChild(path);
    });
    return svg;
  }

  var ICON_CHAT = ["M20 15a2 2 0 0 1-2 2H8l-4 4V6a2 2 0 0 1 2-2h12a2 2 0 0 1 2 2z", "M8.5 9.5h7", "M8.5 12.5h4.5"];
  var ICON_CLOSE = ["M6 6l12 12", "M18 6L6 18"];
  var ICON_SEND = ["M4 12l16-8-6 16-2.5-6.5z", "M11.5 13.5L20 4"];

  /** A link when the address is safe, otherwise the same words as plain text. */
  function safeLink(rawUrl, className, text) {
    var href = safeUrl(rawUrl);
    if (!href) return el("span", { className: className, text: text });
    var a = el("a", { className: className, href: href, text: text });
    if (!isSameOrigin(href)) {
      a.setAttribute("target", "_blank");
      a.setAttribute("rel", "noopener noreferrer");
    }
    return a;
  }

  // --- Cards -----------------------------------------------------------------------------

  function stockLevel(card) {
    if (card.in_stock === false) return "out";
    if (/only|left|low/i.test(str(card.stock_label))) return "low";
    return "in";
  }

  function variantLabel(variant) {
    var stock = Number(variant.stock);
    var label = str(variant.label);
    if (variant.stock === null || variant.stock === undefined || !isFinite(stock)) return label;
    if (stock <= 0) return say(gettext("%(option)s · sold out"), { option: label });
    if (stock <= 3) return say(ngettext("%(option)s · %(count)s left", "%(option)s · %(count)s left", stock), { option: label, count: stock });
    return label;
  }

  function productCard(card) {
    var title = str(card.title) || gettext("Product");
    var level = stockLevel(card);
    var node = el("article", {
      className: "sc-card sc-card--product",
      "data-testid": "sc-card-product",
      "aria-label": title
    });
    var image = safeUrl(card.image);
    if (image) {
      var img = el("img", { className: "sc-card__image", src: image, alt: "", loading: "lazy", decoding: "async" });
      img.addEventListener("error", function () {
        img.remove();
      });
      node.appendChild(el("div", { className: "sc-card__media" }, [img]));
    }
    var body = el("div", { className: "sc-card__body" });
    body.appendChild(safeLink(card.url, "sc-card__title", title));
    var price = str(card.price_text) || formatMoney(card.price, card.currency);
    if (price) body.appendChild(el("div", { className: "sc-card__price", text: price }));
    var stockText = str(card.stock_label) || (level === "out" ? gettext("Sold out") : "");
    if (stockText) {
      body.appendChild(el("div", { className: "sc-stock sc-stock--" + level, "data-stock": level, text: stockText }));
    }
    var variants = Array.isArray(card.variants) ? card.variants.filter(function (v) {
      return v && typeof v === "object" && str(v.label);
    }) : [];
    if (variants.length) {
      var list = el("ul", { className: "sc-variants", "aria-label": gettext("Options") });
      var extras = [];
      variants.forEach(function (v, i) {
        var soldOut = Number(v.stock) <= 0 && v.stock !== null && v.stock !== undefined;
        var chip = el("li", {
          className: "sc-variant" + (soldOut ? " sc-variant--out" : ""),
          hidden: i >= MAX_VARIANTS,
          text: variantLabel(v)
        });
        if (i >= MAX_VARIANTS) extras.push(chip);
        list.appendChild(chip);
      });
      if (extras.length) {
        var more = el("button", {
          type: "button",
          className: "sc-variant sc-variant--more",
          "aria-expanded": "false",
          "data-testid": "sc-variants-more",
          text: say(ngettext("+%(count)s more", "+%(count)s more", extras.length), { count: extras.length })
        });
        more.addEventListener("click", function () {
          var open = more.getAttribute("aria-expanded") !== "true";
          extras.forEach(function (chip) {
            chip.hidden = !open;
          });
          more.setAttribute("aria-expanded", String(open));
          more.textContent = open ? gettext("Fewer") : say(ngettext("+%(count)s more", "+%(count)s more", extras.length), { count: extras.length });
        });
        list.appendChild(el("li", { className: "sc-variants__toggle" }, [more]));
      }
      body.appendChild(list);
    }
    var cta = safeUrl(card.url);
    if (cta) body.appendChild(safeLink(cta, "sc-card__cta", level === "out" ? gettext("See details") : gettext("View product")));
    node.appendChild(body);
    return node;
  }

  function facts(rows) {
    var dl = el("dl", { className: "sc-facts" });
    rows.forEach(function (row) {
      if (!row[1]) return;
      dl.appendChild(el("div", { className: "sc-fact" }, [el("dt", { text: row[0] }), el("dd", { text: row[1] })]));
    });
    return dl.childNodes.length ? dl : null;
  }

  /** Order lines ("2 × Chinos  Navy / M"), each with its reason when one is given. */
  function lineList(raw, className) {
    var items = Array.isArray(raw) ? raw.filter(function (i) { return i && typeof i === "object"; }) : [];
    if (!items.length) return null;
    var list = el("ul", { className: className || "sc-lines" });
    items.forEach(function (item) {
      var qty = str(item.quantity);
      list.appendChild(el("li", { className: "sc-line" }, [
        qty ? el("span", { className: "sc-line__qty", text: qty + " ×" }) : null,
        el("span", { className: "sc-line__name", text: str(item.name) }),
        str(item.variant_label) ? el("span", { className: "sc-line__variant", text: str(item.variant_label) }) : null,
        str(item.reason) ? el("span", { className: "sc-line__reason", text: str(item.reason) }) : null
      ]));
    });
    return list;
  }

  function orderCard(card) {
    var number = str(card.number);
    var title = number ? say(gettext("Order %(number)s"), { number: number }) : gettext("Your order");
    var node = el("article", {
      className: "sc-card sc-card--order",
      "data-testid": "sc-card-order",
      "aria-label": title
    });
    var status = str(card.status_display) || str(card.status);
    node.appendChild(el("div", { className: "sc-card__head" }, [
      el("span", { className: "sc-card__title", text: title }),
      status ? el("span", { className: "sc-pill", "data-status": str(card.status), text: status }) : null
    ]));
    var list = lineList(card.items);
    if (list) node.appendChild(list);
    var tracking = str(card.tracking_number);
    var dl = facts([
      [gettext("Total"), str(card.total_text) || formatMoney(card.total, card.currency)],
      [gettext("Carrier"), str(card.carrier)],
      [gettext("Tracking"), tracking],
      [gettext("Estimated delivery"), formatDay(card.estimated_delivery)]
    ]);
    if (dl) node.appendChild(dl);
    if (safeUrl(card.invoice_url)) {
      // A new tab, so the chat stays open beside the printable invoice.
      var invoice = safeLink(card.invoice_url, "sc-card__cta", gettext("Open invoice"));
      invoice.setAttribute("target", "_blank");
      invoice.setAttribute("rel", "noopener noreferrer");
      invoice.setAttribute("data-testid", "sc-card-invoice");
      node.appendChild(invoice);
    }
    return node;
  }

  function returnCard(card) {
    var rma = str(card.rma_number);
    var order = str(card.order_number);
    var title = rma ? say(gettext("Return %(rma)s"), { rma: rma })
      : order ? say(gettext("Return for order %(number)s"), { number: order }) : gettext("Your return");
    var node = el("article", {
      className: "sc-card sc-card--return",
      "data-testid": "sc-card-return",
      "aria-label": title
    });
    var status = str(card.status_display) || str(card.status);
    node.appendChild(el("div", { className: "sc-card__head" }, [
      el("span", { className: "sc-card__title", text: title }),
      status ? el("span", { className: "sc-pill", "data-status": str(card.status), text: status }) : null
    ]));
    var list = lineList(card.items);
    if (list) node.appendChild(list);
    var kept = lineList(card.not_returnable, "sc-lines sc-lines--kept");
    if (kept) {
      node.appendChild(el("div", { className: "sc-card__note", text: gettext("Can't be returned") }));
      node.appendChild(kept);
    }
    var dl = facts([[gettext("Refund"), str(card.refund_text) || formatMoney(card.refund_amount, card.currency)]]);
    if (dl) node.appendChild(dl);
    return node;
  }

  function renderCard(card) {
    if (!card || typeof card !== "object") return null;
    if (card.kind === "product") return productCard(card);
    if (card.kind === "order") return orderCard(card);
    if (card.kind === "return") return returnCard(card);
    return null; // a kind this widget does not know yet: the text still says it
  }

  function renderSources(sources) {
    var items = (Array.isArray(sources) ? sources : []).filter(function (s) {
      return s && typeof s === "object" && safeUrl(s.url);
    });
    if (!items.length) return null;
    var list = el("ul", { className: "sc-sources__list" });
    items.forEach(function (s) {
      list.appendChild(el("li", null, [safeLink(s.url, "sc-sources__link", str(s.title) || safeUrl(s.url))]));
    });
    return el("div", { className: "sc-sources" }, [el("span", { className: "sc-sources__label", text: gettext("Sources") }), list]);
  }

  // --- The widget ------------------------------------------------------------------------

  function mount(host) {
    if (host.getAttribute("data-sc-mounted")) return;
    host.setAttribute("data-sc-mounted", "1");

    var state = {
      isOpen: false,
      connection: "idle", // idle | connecting | open | reconnecting
      everConnected: false,
      wantConnection: false,
      sessionReady: false,
      ws: null,
      attempt: 0,
      openedAt: 0, // when the current socket opened (0: not open)
      reconnectTimer: null,
      retryTimer: null,
      retries: 0,
      liveAgents: true, // false while the server says people can't join (its Redis is down)
      unavailableNotice: null,
      token: storageGet("localStorage", TOKEN_KEY),
      outbox: loadOutbox(),
      byId: {},
      byClientId: {},
      agentName: null,
      agentsOnline: null, // whether a person could join (session / escalated frames); null: not told
      unread: 0,
      lastTypingSent: 0,
      typingTimer: null,
      pendingRating: null,
      earlyNotices: [] // notices that came before this socket's session frame (bad_token)
    };

    // Skeleton -----------------------------------------------------------------------------
    var root = el("div", { className: "sc-root" });
    var badge = el("span", { className: "sc-badge", "aria-hidden": "true", hidden: true });
    var launcher = el("button", {
      type: "button",
      className: "sc-launcher",
      "data-testid": "sc-launcher",
      "aria-expanded": "false",
      "aria-controls": "sc-panel",
      "aria-label": gettext("Open chat")
    }, [svgIcon(ICON_CHAT, "sc-icon sc-icon--chat"), svgIcon(ICON_CLOSE, "sc-icon sc-icon--close"), badge]);

    var statusDot = el("span", { className: "sc-status__dot", "aria-hidden": "true" });
    var statusText = el("span", { className: "sc-status__text" });
    var status = el("div", { className: "sc-status", "data-testid": "sc-status", role: "status" }, [statusDot, statusText]);
    var closeButton = el("button", { type: "button", className: "sc-close", "aria-label": gettext("Close chat") }, [svgIcon(ICON_CLOSE)]);
    var header = el("div", { className: "sc-header" }, [
      el("div", { className: "sc-header__text" }, [el("h2", { className: "sc-title", id: "sc-title", text: gettext("Chat with us") }), status]),
      closeButton
    ]);

    var log = el("div", {
      className: "sc-log",
      role: "log",
      "aria-live": "polite",
      "aria-relevant": "additions",
      "aria-label": gettext("Conversation"),
      tabindex: "0"
    });
    var welcome = el("p", { className: "sc-welcome", text: gettext("Hi! Ask us about products, sizes, your order, shipping or returns.") });
    log.appendChild(welcome);

    var typingLabel = el("span", { className: "sc-typing__label" });
    var typing = el("div", { className: "sc-typing", "data-testid": "sc-typing", hidden: true }, [
      el("span", { className: "sc-dots", "aria-hidden": "true" }, [el("span"), el("span"), el("span")]),
      typingLabel
    ]);
    var quickReplies = el("div", { className: "sc-quick-replies", role: "group", "aria-label": gettext("Suggested replies"), hidden: true });

    var input = el("textarea", {
      id: "sc-input",
      className: "sc-input",
      "data-testid": "sc-input",
      rows: "1",
      maxlength: String(MAX_LEN),
      placeholder: gettext("Type your message…"),
      autocomplete: "off",
      "aria-describedby": "sc-hint sc-counter"
    });
    var sendButton = el("button", {
      type: "submit",
      className: "sc-send",
      "data-testid": "sc-send",
      "aria-label": gettext("Send message"),
      disabled: true
    }, [svgIcon(ICON_SEND)]);
    var counter = el("div", { className: "sc-counter", id: "sc-counter", hidden: true });
    var form = el("form", { className: "sc-composer", novalidate: true }, [
      el("label", { className: "sc-visually-hidden", for: "sc-input", text: gettext("Your message") }),
      input,
      sendButton
    ]);
    var hint = el("p", { className: "sc-visually-hidden", id: "sc-hint", text: gettext("Press Enter to send, Shift and Enter for a new line, Escape to close the chat.") });

    var panel = el("div", {
      id: "sc-panel",
      className: "sc-panel",
      role: "dialog",
      "aria-label": gettext("Chat with us"),
      hidden: true
    }, [header, log, typing, quickReplies, form, counter, hint]);

    root.appendChild(panel);
    root.appendChild(launcher);
    host.appendChild(root);

    // Status line ----------------------------------------------------------------------------
    function setConnection(value) {
      state.connection = value;
      var text;
      if (value === "open") {
        text = state.agentName ? say(gettext("Chatting with %(agent)s"), { agent: state.agentName })
          : state.agentsOnline === false ? gettext("Team offline · the assistant is here") : gettext("Online");
      }
      else if (value === "connecting") text = gettext("Connecting…");
      else if (value === "reconnecting") text = gettext("Reconnecting…");
      else text = gettext("We usually reply in seconds");
      if (value === "open" && !state.liveAgents) text = say(gettext("%(status)s · live agents unavailable right now"), { status: text });
      status.setAttribute("data-state", value);
      status.setAttribute("data-team", state.agentsOnline === null ? "unknown" : state.agentsOnline ? "online" : "offline");
      statusText.textContent = text;
    }
    setConnection("idle");

    // Scrolling ------------------------------------------------------------------------------
    function nearBottom() {
      return log.scrollHeight - log.scrollTop - log.clientHeight < 80;
    }

    function scrollToBottom() {
      log.scrollTop = log.scrollHeight;
    }

    function appendToLog(node, forceScroll) {
      var stick = forceScroll || nearBottom();
      log.appendChild(node);
      if (stick) scrollToBottom();
    }

    // Outbox (unacknowledged shopper messages) ---------------------------------------------
    function loadOutbox() {
      var raw = storageGet("sessionStorage", OUTBOX_KEY);
      if (!raw) return [];
      try {
        var items = JSON.parse(raw);
        if (!Array.isArray(items)) return [];
        return items.filter(function (item) {
          return item && typeof item.client_id === "string" && typeof item.text === "string" && item.text.trim() &&
            item.text.length <= MAX_LEN;
        });
      } catch (e) {
        return [];
      }
    }

    function saveOutbox() {
      storageSet("sessionStorage", OUTBOX_KEY, state.outbox.length ? JSON.stringify(state.outbox) : null);
    }

    function dropFromOutbox(clientId) {
      var before = state.outbox.length;
      state.outbox = state.outbox.filter(function (item) {
        return item.client_id !== clientId;
      });
      if (state.outbox.length !== before) saveOutbox();
    }

    // Messages -------------------------------------------------------------------------------
    function setDelivery(node, value, detail) {
      node.setAttribute("data-status", value);
      var slot = node.querySelector(".sc-delivery");
      if (!slot) return;
      if (value === "sending") slot.textContent = gettext("Sending…");
      else if (value === "sent") slot.textContent = gettext("Sent");
      else slot.textContent = detail ? say(gettext("Not sent: %(reason)s"), { reason: detail }) : gettext("Not sent");
    }

    function authorOf(frame, sender) {
      if (sender === "shopper") return pgettext("chat sender", "You");
      if (sender === "agent") return str(frame.agent_name) || state.agentName || pgettext("chat sender", "Agent");
      if (sender === "bot") return pgettext("chat sender", "Assistant");
      return pgettext("chat sender", "Shop");
    }

    function buildMessage(frame, sender) {
      var node = el("div", {
        className: "sc-msg sc-msg--" + sender,
        "data-testid": "sc-msg",
        "data-sender": sender
      });
      var author = authorOf(frame, sender);
      if (sender === "agent") node.appendChild(el("div", { className: "sc-msg__author", text: author }));
      else if (sender !== "system") node.appendChild(el("span", { className: "sc-visually-hidden", text: author + ": " }));
      node.appendChild(el("div", { className: "sc-bubble", text: str(frame.text) }));
      if (Array.isArray(frame.cards) && frame.cards.length) {
        var cards = el("div", { className: "sc-cards" });
        frame.cards.forEach(function (card) {
          var c = renderCard(card);
          if (c) cards.appendChild(c);
        });
        if (cards.childNodes.length) node.appendChild(cards);
      }
      var sources = renderSources(frame.sources);
      if (sources) node.appendChild(sources);
      var time = formatTime(frame.created);
      var meta = el("div", { className: "sc-meta" }, [el("time", { datetime: time.iso, title: time.full, text: time.label })]);
      if (sender === "shopper") meta.appendChild(el("span", { className: "sc-delivery" }));
      node.appendChild(meta);
      return node;
    }

    function remember(node, frame) {
      if (frame.id !== null && frame.id !== undefined) {
        node.setAttribute("data-id", String(frame.id));
        state.byId[String(frame.id)] = node;
      }
      if (typeof frame.client_id === "string" && frame.client_id) {
        node.setAttribute("data-client-id", frame.client_id);
        state.byClientId[frame.client_id] = node;
      }
    }

    function normalSender(value) {
      return value === "shopper" || value === "bot" || value === "agent" ? value : "system";
    }

    /** Adds a MESSAGE frame to the log unless it is already there. Returns the node or null. */
    function addMessage(frame, live) {
      if (!frame || typeof frame !== "object") return null;
      var sender = normalSender(frame.sender);
      var id = frame.id === null || frame.id === undefined ? null : String(frame.id);
      if (id !== null && state.byId[id]) return null;
      if (sender === "shopper" && frame.client_id && state.byClientId[frame.client_id]) {
        var mine = state.byClientId[frame.client_id];
        remember(mine, frame);
        setDelivery(mine, "sent");
        return null;
      }
      var node = buildMessage(frame, sender);
      remember(node, frame);
      if (sender === "shopper") setDelivery(node, "sent");
      appendToLog(node, !live || sender === "shopper");
      return node;
    }

    function addPending(item) {
      var node = buildMessage({ text: item.text, created: item.created }, "shopper");
      remember(node, { client_id: item.client_id });
      setDelivery(node, "sending");
      appendToLog(node, true);
      return node;
    }

    function addNotice(text, kind) {
      var node = el("div", { className: "sc-notice sc-notice--" + (kind || "info"), "data-testid": "sc-notice", text: text });
      if (kind === "error") node.setAttribute("data-kind", "error");
      appendToLog(node, true);
      // The session frame that follows replaces the log: keep these to show again after it.
      if (state.ws && !state.sessionReady) state.earlyNotices.push(node);
      return node;
    }

    function clearLog() {
      while (log.firstChild) log.removeChild(log.firstChild);
      log.appendChild(welcome);
      state.byId = {};
      state.byClientId = {};
    }

    // Quick replies ---------------------------------------------------------------------------
    function clearQuickReplies() {
      while (quickReplies.firstChild) quickReplies.removeChild(quickReplies.firstChild);
      quickReplies.hidden = true;
    }

    function showQuickReplies(replies) {
      clearQuickReplies();
      var texts = (Array.isArray(replies) ? replies : []).map(str).filter(function (t) {
        return t.trim() && t.length <= MAX_LEN;
      });
      if (!texts.length) return;
      var stick = nearBottom();
      texts.forEach(function (text) {
        var button = el("button", { type: "button", className: "sc-quick-reply", "data-testid": "sc-quick-reply", text: text });
        button.addEventListener("click", function () {
          clearQuickReplies();
          sendText(text);
          input.focus();
        });
        quickReplies.appendChild(button);
      });
      quickReplies.hidden = false;
      if (stick) scrollToBottom(); // the log just got shorter: keep the newest message in view
    }

    // Rating ---------------------------------------------------------------------------------
    function alreadyRated() {
      return !!state.token && storageGet("localStorage", RATED_KEY) === state.token;
    }

    function removeRating() {
      var old = log.querySelector(".sc-rating");
      if (old) old.remove();
    }

    function showRating() {
      if (alreadyRated()) return;
      removeRating();
      var row = el("div", { className: "sc-rating", "data-testid": "sc-rating", role: "group", "aria-label": gettext("Rate this conversation") });
      row.appendChild(el("span", { className: "sc-rating__label", text: gettext("How did we do?") }));
      var stars = el("div", { className: "sc-stars" });
      var buttons = [];
      function highlight(n) {
        buttons.forEach(function (b, i) {
          b.classList.toggle("sc-star--on", i < n);
        });
      }
      [1, 2, 3, 4, 5].forEach(function (score) {
        var b = el("button", {
          type: "button",
          className: "sc-star",
          "data-testid": "sc-star",
          "data-score": String(score),
          "aria-label": say(ngettext("%(count)s star", "%(count)s stars", score), { count: score }),
          text: "★"
        });
        b.addEventListener("mouseenter", function () { highlight(score); });
        b.addEventListener("focus", function () { highlight(score); });
        b.addEventListener("click", function () {
          rate(score);
          while (row.firstChild) row.removeChild(row.firstChild);
          row.appendChild(el("span", { className: "sc-rating__label", text: gettext("Thanks for your feedback!") }));
        });
        buttons.push(b);
        stars.appendChild(b);
      });
      stars.addEventListener("mouseleave", function () { highlight(0); });
      row.appendChild(stars);
      appendToLog(row, true);
    }

    function rate(score) {
      var frame = { type: "rating", score: score };
      if (state.token) storageSet("localStorage", RATED_KEY, state.token);
      if (!(state.sessionReady && sendFrame(frame))) state.pendingRating = frame;
    }

    // Typing ---------------------------------------------------------------------------------
    function hideTyping() {
      clearTimeout(state.typingTimer);
      typing.hidden = true;
    }

    function showTyping(sender) {
      var who = sender === "agent" ? state.agentName || pgettext("chat sender", "Agent") : pgettext("chat sender", "Assistant");
      typingLabel.textContent = say(gettext("%(name)s is typing…"), { name: who });
      var stick = nearBottom();
      typing.hidden = false;
      if (stick) scrollToBottom();
      clearTimeout(state.typingTimer);
      state.typingTimer = setTimeout(hideTyping, TYPING_SHOW_MS);
    }

    // Unread badge ---------------------------------------------------------------------------
    function setUnread(n) {
      state.unread = n;
      badge.textContent = n > 9 ? "9+" : String(n);
      badge.hidden = n === 0;
      launcher.setAttribute("aria-label", state.isOpen ? gettext("Close chat")
        : n ? say(ngettext("Open chat, %(count)s unread", "Open chat, %(count)s unread", n), { count: n }) : gettext("Open chat"));
    }

    // Connection -----------------------------------------------------------------------------
    function socketUrl() {
      var path = host.getAttribute("data-ws-path") || "/ws/chat/";
      if (path.charAt(0) !== "/" || path.charAt(1) === "/") path = "/ws/chat/"; // same host only
      var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
      var url = new URL(scheme + window.location.host + path);
      if (state.token) url.searchParams.set("conversation", state.token);
      // The storefront's language (<html lang>, set by Django's LocaleMiddleware): the server
      // answers a new conversation in it (docs/i18n.md).
      var language = document.documentElement.getAttribute("lang");
      if (language) url.searchParams.set("language", language);
      return url.href;
    }

    function sendFrame(frame) {
      var ws = state.ws;
      if (!ws || ws.readyState !== 1) return false;
      try {
        ws.send(JSON.stringify(frame));
        return true;
      } catch (e) {
        return false;
      }
    }

    /** A message frame, with the product page the shopper is on (data-product on the widget's
     * host element) so that "this", "it" or "in XL" mean that product. */
    function messageFrame(item) {
      var frame = { type: "message", text: item.text, client_id: item.client_id };
      var product = host.getAttribute("data-product");
      if (product) frame.page = { product: product };
      return frame;
    }

    /** Sends what waits in the outbox; `afterConnect` counts a resend on a new connection. */
    function flushOutbox(afterConnect) {
      if (!state.sessionReady) return;
      state.outbox.slice().forEach(function (item) {
        if (afterConnect) {
          item.resends = (item.resends || 0) + 1;
          if (item.resends > MAX_RESENDS) return refuseItem(item.client_id, ERROR_TEXT.not_delivered);
        }
        sendFrame(messageFrame(item));
      });
      saveOutbox();
    }

    /** The server will never store this message: out of the outbox, marked "Not sent". */
    function refuseItem(clientId, detail) {
      dropFromOutbox(clientId);
      var node = state.byClientId[clientId];
      if (node) setDelivery(node, "failed", detail);
    }

    function connect() {
      if (state.ws) return;
      clearTimeout(state.reconnectTimer);
      state.reconnectTimer = null;
      state.wantConnection = true;
      setConnection(state.everConnected ? "reconnecting" : "connecting");
      var ws;
      try {
        ws = new WebSocket(socketUrl());
      } catch (e) {
        scheduleReconnect();
        return;
      }
      state.ws = ws;
      state.sessionReady = false;
      state.earlyNotices = [];
      var connectTimer = setTimeout(function () {
        if (ws.readyState === 0) ws.close(); // stuck handshake: give up and back off
      }, CONNECT_TIMEOUT_MS);

      ws.addEventListener("open", function () {
        if (state.ws !== ws) return;
        clearTimeout(connectTimer);
        state.openedAt = Date.now();
        state.everConnected = true;
        state.liveAgents = true; // each socket's server says so again if people still can't join
        setConnection("open");
      });
      ws.addEventListener("message", function (event) {
        if (state.ws !== ws) return;
        handleFrame(event.data);
      });
      ws.addEventListener("close", function (event) {
        clearTimeout(connectTimer);
        if (state.ws !== ws) return;
        state.ws = null;
        if (state.openedAt && Date.now() - state.openedAt >= STABLE_AFTER_MS) state.attempt = 0;
        if (event && event.code === CLOSE_RATE_LIMITED) state.attempt = Math.max(state.attempt, 5);
        state.openedAt = 0;
        state.sessionReady = false;
        hideTyping();
        if (state.wantConnection) scheduleReconnect();
        else setConnection("idle");
      });
    }

    function scheduleReconnect() {
      clearTimeout(state.reconnectTimer);
      var ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * Math.pow(2, state.attempt));
      // "Equal jitter": half fixed, half random, so many shops' worth of tabs don't reconnect in step.
      var delay = Math.max(BACKOFF_MIN_MS, ceiling / 2 + Math.random() * (ceiling / 2));
      state.attempt += 1;
      setConnection("reconnecting");
      state.reconnectTimer = setTimeout(connect, delay);
    }

    function connectNow() {
      if (state.ws) return;
      state.attempt = 0;
      connect();
    }

    // Frames from the server -----------------------------------------------------------------
    function handleFrame(data) {
      if (typeof data !== "string") return;
      var frame;
      try {
        frame = JSON.parse(data);
      } catch (e) {
        return;
      }
      if (!frame || typeof frame !== "object") return;
      switch (frame.type) {
        case "session": onSession(frame); break;
        case "ack": onAck(frame); break;
        case "message": onMessage(frame); break;
        case "escalated": onEscalated(frame); break;
        case "queue": onQueue(frame); break;
        case "agent_joined": onAgentJoined(frame); break;
        case "agent_left": onAgentLeft(); break;
        case "typing": if (frame.sender === "bot" || frame.sender === "agent") showTyping(frame.sender); break;
        case "error": onError(frame); break;
        case "status": onStatus(frame); break;
        default: break; // the protocol may add frame types; ignore what we don't know
      }
    }

    function onSession(frame) {
      if (typeof frame.conversation === "string" && frame.conversation) {
        state.token = frame.conversation;
        storageSet("localStorage", TOKEN_KEY, state.token);
      }
      clearLog();
      clearQuickReplies();
      hideTyping();
      var history = Array.isArray(frame.history) ? frame.history : [];
      var stored = {};
      var last = null;
      history.forEach(function (item) {
        if (!item || typeof item !== "object" || (item.type && item.type !== "message")) return;
        if (item.sender === "shopper" && item.client_id) stored[item.client_id] = true;
        addMessage(item, false);
        last = item;
      });
      // Whatever the transcript already holds was stored: no need to send it again.
      state.outbox = state.outbox.filter(function (item) {
        return !stored[item.client_id];
      });
      saveOutbox();
      state.outbox.forEach(addPending);
      state.earlyNotices.forEach(function (node) {
        log.appendChild(node);
      });
      state.earlyNotices = [];
      if (last && last.sender === "bot" && !state.outbox.length) {
        if (Array.isArray(last.quick_replies)) showQuickReplies(last.quick_replies);
        if (last.intent === "goodbye") showRating();
      }
      if (typeof frame.agents_online === "boolean") state.agentsOnline = frame.agents_online;
      state.sessionReady = true;
      setConnection("open");
      flushOutbox(true);
      if (state.pendingRating && sendFrame(state.pendingRating)) state.pendingRating = null;
      scrollToBottom();
    }

    function onAck(frame) {
      var clientId = str(frame.client_id);
      if (!clientId) return;
      dropFromOutbox(clientId);
      state.retries = 0;
      var node = state.byClientId[clientId];
      if (!node) return;
      var id = frame.id === null || frame.id === undefined ? null : String(frame.id);
      if (id !== null) {
        var existing = state.byId[id];
        if (existing && existing !== node) existing.remove();
        remember(node, { id: frame.id });
      }
      setDelivery(node, "sent");
    }

    function onMessage(frame) {
      var sender = normalSender(frame.sender);
      if (sender !== "shopper") {
        hideTyping();
        clearQuickReplies();
      }
      var node = addMessage(frame, true);
      if (!node) return;
      if (sender === "shopper") return;
      if (sender === "bot" && Array.isArray(frame.quick_replies)) showQuickReplies(frame.quick_replies);
      if (sender === "bot" && frame.intent === "goodbye") showRating();
      if (!state.isOpen) setUnread(state.unread + 1);
    }

    function onEscalated(frame) {
      if (typeof frame.agents_online === "boolean") {
        state.agentsOnline = frame.agents_online;
        setConnection(state.connection);
      }
      // Nobody online: no place in the queue; the desk's message says how we follow up.
      if (state.agentsOnline === false) return;
      var position = Number(frame.position);
      var text = frame.position !== null && frame.position !== undefined && isFinite(position) && position >= 1
        ? say(gettext("You're number %(position)s in the queue — a person will join shortly"), { position: position })
        : gettext("A person will join shortly");
      state.queueNotice = addNotice(text, "info");
    }

    // The queue moved: update the last queue notice in place rather than adding another line.
    function onQueue(frame) {
      var position = Number(frame.position);
      if (!isFinite(position) || position < 1) return;
      if (state.agentsOnline !== true) {
        state.agentsOnline = true; // places in the queue are only sent while someone can take it
        setConnection(state.connection);
      }
      var text = say(gettext("You're number %(position)s in the queue — a person will join shortly"), { position: position });
      if (state.queueNotice && state.queueNotice.parentNode) {
        state.queueNotice.textContent = text;
      } else {
        state.queueNotice = addNotice(text, "info");
      }
    }

    function onAgentJoined(frame) {
      state.queueNotice = null;
      state.agentName = str(frame.agent).trim() || gettext("An agent");
      addNotice(say(gettext("%(agent)s joined the chat"), { agent: state.agentName }), "info");
      clearQuickReplies();
      setConnection(state.connection);
      if (!state.isOpen) setUnread(state.unread + 1);
    }

    function onAgentLeft() {
      state.agentName = null;
      hideTyping();
      addNotice(gettext("The agent left the chat"), "info");
      setConnection(state.connection);
    }

    function onError(frame) {
      var code = str(frame.code);
      var detail = str(frame.detail).trim();
      if (code === "bad_token") {
        state.token = null;
        storageSet("localStorage", TOKEN_KEY, null);
        detail = ERROR_TEXT.bad_token;
      }
      var text = detail || ERROR_TEXT[code] || gettext("Something went wrong. Please try again.");
      if (code === "unavailable" && state.unavailableNotice && state.unavailableNotice.parentNode) {
        state.unavailableNotice.textContent = text; // one notice per outage, not one per retry
      } else if (code === "unavailable") {
        state.unavailableNotice = addNotice(text, "error");
      } else {
        addNotice(text, "error");
      }
      var clientId = str(frame.client_id);
      if (clientId && !RETRY_CODES[code]) {
        // The server will never store this one: stop resending it and say so.
        refuseItem(clientId, detail || ERROR_TEXT[code] || gettext("Something went wrong."));
      }
      if (RETRY_CODES[code] && state.outbox.length && !state.retryTimer) {
        var delay = code === "rate_limited"
          ? RATE_LIMIT_RETRY_MS
          : Math.min(UNAVAILABLE_RETRY_MAX_MS, 2000 * Math.pow(2, state.retries));
        state.retries += 1;
        state.retryTimer = setTimeout(function () {
          state.retryTimer = null;
          flushOutbox();
        }, delay);
      }
      input.disabled = false;
      updateComposer();
    }

    function onStatus(frame) {
      var live = frame.live_agents !== false;
      if (live === state.liveAgents) return;
      state.liveAgents = live;
      addNotice(live
        ? gettext("Our team can join the chat again.")
        : gettext("Our team can't join live chats right now. The assistant still answers, and your messages are kept."), "info");
      setConnection(state.connection);
    }

    // Sending --------------------------------------------------------------------------------
    function sendText(raw) {
      var text = str(raw).trim();
      if (!text) return false;
      if (text.length > MAX_LEN) {
        addNotice(ERROR_TEXT.too_long, "error");
        return false;
      }
      var item = { client_id: newClientId(), text: text, created: new Date().toISOString() };
      state.outbox.push(item);
      saveOutbox();
      clearQuickReplies();
      addPending(item);
      if (state.sessionReady) sendFrame(messageFrame(item));
      else if (!state.ws && !state.reconnectTimer) connectNow();
      return true;
    }

    function updateComposer() {
      var length = input.value.length;
      sendButton.disabled = !input.value.trim();
      if (length >= COUNTER_FROM) {
        counter.hidden = false;
        counter.textContent = length + " / " + MAX_LEN;
        counter.classList.toggle("sc-counter--full", length >= MAX_LEN);
      } else {
        counter.hidden = true;
      }
      // Grow with the text up to the CSS max-height, then scroll inside.
      var stick = nearBottom();
      input.style.height = "auto";
      input.style.height = input.scrollHeight + "px";
      if (stick) scrollToBottom();
    }

    function submitInput() {
      if (sendText(input.value)) {
        input.value = "";
        updateComposer();
      }
    }

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      submitInput();
      input.focus();
    });

    input.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing && event.keyCode !== 229) {
        event.preventDefault();
        submitInput();
      }
    });

    input.addEventListener("input", function () {
      updateComposer();
      var now = Date.now();
      if (input.value.trim() && state.sessionReady && now - state.lastTypingSent >= TYPING_SEND_EVERY_MS) {
        if (sendFrame({ type: "typing" })) state.lastTypingSent = now;
      }
    });

    // Open / close ---------------------------------------------------------------------------
    var phone = window.matchMedia ? window.matchMedia("(max-width: 480px)") : null;

    function open(options) {
      var focus = !options || options.focus !== false;
      if (!state.isOpen) {
        state.isOpen = true;
        panel.hidden = false;
        root.classList.add("sc-root--open");
        document.documentElement.classList.add("sc-chat-open");
        launcher.setAttribute("aria-expanded", "true");
        setUnread(0);
        storageSet("sessionStorage", OPEN_KEY, "1");
        connectNow();
        scrollToBottom();
      }
      if (focus) input.focus();
    }

    function close() {
      if (!state.isOpen) return;
      state.isOpen = false;
      panel.hidden = true;
      root.classList.remove("sc-root--open");
      document.documentElement.classList.remove("sc-chat-open");
      launcher.setAttribute("aria-expanded", "false");
      setUnread(state.unread);
      storageSet("sessionStorage", OPEN_KEY, null);
      launcher.focus();
    }

    launcher.addEventListener("click", function () {
      if (state.isOpen) close();
      else open();
    });
    closeButton.addEventListener("click", close);
    root.addEventListener("keydown", function (event) {
      if ((event.key === "Escape" || event.key === "Esc") && state.isOpen) {
        event.preventDefault();
        close();
      }
    });

    window.addEventListener("online", function () {
      if (state.wantConnection && !state.ws) connectNow();
    });

    // Testing and debugging hook -------------------------------------------------------------
    window.shopChat = {
      open: function () { open(); },
      close: close,
      send: function (text) { return sendText(text); },
      state: function () {
        return {
          open: state.isOpen,
          connection: state.connection,
          sessionReady: state.sessionReady,
          token: state.token,
          agent: state.agentName,
          unread: state.unread,
          reconnectAttempt: state.attempt,
          outbox: state.outbox.map(function (item) { return { client_id: item.client_id, text: item.text }; }),
          messages: log.querySelectorAll(".sc-msg").length
        };
      }
    };

    // Start ----------------------------------------------------------------------------------
    // Outbox pending messages show up at once, even before the server answers.
    state.outbox.forEach(addPending);
    // A running conversation or unsent messages: connect now so replies and resends arrive.
    // Otherwise wait for the shopper to open the chat, so page views don't start conversations.
    if (state.token || state.outbox.length) connect();
    // Keep the chat open across page loads on wide screens; on a phone it would cover the page.
    if (storageGet("sessionStorage", OPEN_KEY) && !(phone && phone.matches)) open({ focus: false });
  }

  function start() {
    var host = document.getElementById("chat-widget");
    if (host) mount(host);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
