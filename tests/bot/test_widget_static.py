"""Static checks on the storefront chat widget (static/chat/widget.js and widget.css).

They hold the safety line without a browser or Node: the script is parsed in Python
(esprima) and the syntax tree is searched for every way to turn a string into markup or code.
They do not prove behaviour (send, ack, reconnect, resend, cards): that needs a real browser
against a chat server.
"""

import re

import pytest
from django.contrib.staticfiles import finders

WIDGET_JS = "chat/widget.js"
WIDGET_CSS = "chat/widget.css"

# Every API that parses a string as HTML or as code.
MARKUP_PROPERTIES = {"innerHTML", "outerHTML", "insertAdjacentHTML", "createContextualFragment", "srcdoc"}
CODE_CALLS = {"eval", "Function"}


def _read(name: str) -> str:
    path = finders.find(name)
    assert path, f"{name} is not found by the staticfiles finders"
    with open(path, encoding="utf-8") as handle:
        return handle.read()


@pytest.fixture(scope="module")
def js() -> str:
    return _read(WIDGET_JS)


@pytest.fixture(scope="module")
def css() -> str:
    return _read(WIDGET_CSS)


@pytest.fixture(scope="module")
def tree(js):
    esprima = pytest.importorskip("esprima", reason="esprima parses the widget without Node (add it to requirements)")
    try:
        return esprima.parseScript(js, {"range": False}).toDict()
    except esprima.Error as exc:  # a syntax error in the widget: the storefront would get no chat at all
        pytest.fail(f"widget.js does not parse as ES2017: {exc}")


def _walk(node):
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def _member_name(node: dict) -> str | None:
    """The property name of obj.name or obj["name"]."""
    prop = node.get("property") or {}
    if not node.get("computed") and prop.get("type") == "Identifier":
        return prop["name"]
    if prop.get("type") == "Literal" and isinstance(prop.get("value"), str):
        return prop["value"]
    return None


def _string_literals(tree) -> set[str]:
    return {n["value"] for n in _walk(tree) if n.get("type") == "Literal" and isinstance(n.get("value"), str)}


# --- Finding the files --------------------------------------------------------------------


def test_widget_files_are_found_by_the_staticfiles_finders():
    assert finders.find(WIDGET_JS)
    assert finders.find(WIDGET_CSS)


# --- The safety line in the script --------------------------------------------------------


@pytest.mark.parametrize(
    "pattern",
    [r"innerHTML", r"outerHTML", r"insertAdjacentHTML", r"document\s*\.\s*write", r"\beval\b", r"new\s+Function\b"],
)
def test_script_text_never_names_a_markup_or_code_api(js, pattern):
    assert not re.search(pattern, js), f"widget.js mentions {pattern!r}"


def test_syntax_tree_has_no_markup_sinks(tree):
    offenders = [
        _member_name(n)
        for n in _walk(tree)
        if n.get("type") == "MemberExpression" and _member_name(n) in MARKUP_PROPERTIES
    ]
    assert offenders == []


def test_syntax_tree_never_runs_strings_as_code(tree):
    offenders = []
    for n in _walk(tree):
        if n.get("type") not in ("CallExpression", "NewExpression"):
            continue
        callee = n.get("callee") or {}
        name = callee.get("name") if callee.get("type") == "Identifier" else None
        if callee.get("type") == "MemberExpression":
            name = _member_name(callee)
            obj = callee.get("object") or {}
            if obj.get("type") == "Identifier" and obj.get("name") == "document" and name in ("write", "writeln"):
                offenders.append(f"document.{name}")
        if name in CODE_CALLS:
            offenders.append(name)
        # setTimeout("code") and setInterval("code") evaluate their string.
        args = n.get("arguments") or []
        if name in ("setTimeout", "setInterval") and args and args[0].get("type") in ("Literal", "TemplateLiteral", "BinaryExpression"):
            offenders.append(f"{name} with a string")
    assert offenders == []


def test_event_handlers_are_never_set_as_attributes(tree):
    """setAttribute("onclick", ...) would turn a string into code; listeners only."""
    offenders = []
    for n in _walk(tree):
        if n.get("type") != "CallExpression":
            continue
        callee = n.get("callee") or {}
        if callee.get("type") != "MemberExpression" or _member_name(callee) != "setAttribute":
            continue
        first = (n.get("arguments") or [{}])[0]
        if first.get("type") == "Literal" and str(first.get("value")).lower().startswith("on"):
            offenders.append(first["value"])
    assert offenders == []
    # The el() helper's prop names are attributes too: none of them may be an on* handler.
    props = [
        key["value"] if key.get("type") == "Literal" else key.get("name")
        for n in _walk(tree)
        if n.get("type") == "Property"
        for key in [n.get("key") or {}]
    ]
    assert not [p for p in props if isinstance(p, str) and re.fullmatch(r"on[a-z]+", p)]


def test_links_and_images_from_data_pass_the_url_check(js):
    """Every href/src set from data goes through safeUrl (http(s) or same-origin only)."""
    assert re.search(r'url\.protocol !== "http:" && url\.protocol !== "https:"', js)
    for match in re.finditer(r"\b(href|src):\s*([A-Za-z_$][\w$.]*)", js):
        assert match.group(2) in {"href", "image"}, f"{match.group(0)} does not come from safeUrl"
    assert re.search(r"var href = safeUrl\(", js) and re.search(r"var image = safeUrl\(", js)


# --- The contract the storefront and browser tests rely on -------------------------------


def test_test_ids_named_in_the_issue_are_present(tree):
    literals = _string_literals(tree)
    for test_id in (
        "sc-launcher", "sc-input", "sc-send", "sc-msg", "sc-card-product", "sc-card-order",
        "sc-quick-reply", "sc-status",
    ):
        assert test_id in literals, test_id


def test_protocol_and_storage_names(tree):
    literals = _string_literals(tree)
    assert {"shopChat.token", "session", "ack", "message", "typing", "rating", "escalated", "agent_joined", "agent_left",
            "error", "goodbye", "conversation"} <= literals
    prop_names = {
        (n.get("key") or {}).get("name") for n in _walk(tree) if n.get("type") == "Property"
    } | literals
    assert {"role", "log", "aria-live", "polite", "dialog", "aria-expanded", "aria-controls", "maxlength"} <= prop_names


def test_message_limit_matches_the_server(tree):
    limits = [
        n["init"]["value"]
        for n in _walk(tree)
        if n.get("type") == "VariableDeclarator" and (n.get("id") or {}).get("name") == "MAX_LEN"
    ]
    from bot.consumers import MAX_TEXT

    assert limits == [MAX_TEXT]


def test_backoff_bounds(tree):
    values = {
        n["id"]["name"]: n["init"].get("value")
        for n in _walk(tree)
        if n.get("type") == "VariableDeclarator" and n.get("init") and (n.get("id") or {}).get("name", "").startswith("BACKOFF_")
    }
    assert values == {"BACKOFF_MIN_MS": 500, "BACKOFF_MAX_MS": 15000}


def test_debug_hook_exposes_open_close_send_state(tree):
    hooks = [
        n["right"]
        for n in _walk(tree)
        if n.get("type") == "AssignmentExpression"
        and (n.get("left") or {}).get("type") == "MemberExpression"
        and _member_name(n["left"]) == "shopChat"
    ]
    assert len(hooks) == 1 and hooks[0]["type"] == "ObjectExpression"
    assert {p["key"]["name"] for p in hooks[0]["properties"]} == {"open", "close", "send", "state"}


# --- The stylesheet -----------------------------------------------------------------------


def _css_rules(css: str):
    """(selector text, body) for every rule, at any nesting depth, comments stripped."""
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    return [(m.group(1).strip(), m.group(2)) for m in re.finditer(r"([^{};]+)\{([^{}]*)\}", css)]


def test_css_braces_balance(css):
    stripped = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    assert stripped.count("{") == stripped.count("}")


def test_css_has_a_full_screen_phone_layout(css):
    match = re.search(r"@media\s*\(max-width:\s*(\d+)px\)\s*\{(.*?)\n\}", css, flags=re.S)
    assert match, "no max-width media query"
    assert 440 <= int(match.group(1)) <= 520
    phone = dict(_css_rules(match.group(2)))
    assert "inset: 0" in phone[".sc-panel"] and "border-radius: 0" in phone[".sc-panel"]


def test_css_respects_reduced_motion(css):
    match = re.search(r"@media\s*\(prefers-reduced-motion:\s*reduce\)\s*\{(.*?)\n\}", css, flags=re.S)
    assert match and "animation: none" in match.group(1) and "transition: none" in match.group(1)


def test_css_has_visible_focus_styles_and_colour_variables(css):
    assert re.search(r":focus-visible\s*\{[^}]*outline:\s*2px solid", css)
    assert re.findall(r"--sc-[a-z-]+:", css), "colours are not CSS variables"


def test_every_css_rule_is_scoped_to_the_widget(css):
    keyframe_steps = re.compile(r"^(from|to|\d+%)(\s*,\s*(from|to|\d+%))*$")
    unscoped, foreign_classes = [], []
    for selector, _body in _css_rules(css):
        if selector.startswith("@") or keyframe_steps.match(selector):
            continue
        for part in selector.split(","):
            part = part.strip()
            if ".sc-" not in part:
                unscoped.append(part)
            foreign_classes += [c for c in re.findall(r"\.([A-Za-z_][\w-]*)", part) if not c.startswith("sc-")]
    assert unscoped == []
    assert foreign_classes == []


# --- Refused messages and reconnects (issue #11, finding 5) -------------------------------


def _declared(tree, name):
    return [
        n["init"] for n in _walk(tree) if n.get("type") == "VariableDeclarator" and (n.get("id") or {}).get("name") == name
    ]


def _function(tree, name):
    found = [n for n in _walk(tree) if n.get("type") == "FunctionDeclaration" and (n.get("id") or {}).get("name") == name]
    assert len(found) == 1, name
    return found[0]


def test_only_rate_limited_and_unavailable_errors_keep_a_message_for_retry(tree):
    (codes,) = _declared(tree, "RETRY_CODES")
    assert {p["key"]["name"] for p in codes["properties"]} == {"rate_limited", "unavailable"}
    # onError refuses every other message error for good (it reads RETRY_CODES and calls refuseItem).
    on_error = _function(tree, "onError")
    names = {n.get("name") for n in _walk(on_error) if n.get("type") == "Identifier"}
    assert {"RETRY_CODES", "refuseItem"} <= names


def test_a_refused_message_leaves_the_outbox_and_is_marked_not_sent(tree):
    refuse = _function(tree, "refuseItem")
    calls = [n["callee"].get("name") for n in _walk(refuse) if n.get("type") == "CallExpression"]
    assert "dropFromOutbox" in calls and "setDelivery" in calls
    assert "failed" in _string_literals(refuse)
    assert "Not sent: %(reason)s" in _string_literals(_function(tree, "setDelivery"))


def test_bad_text_and_client_id_reuse_have_their_own_words(tree):
    (texts,) = _declared(tree, "ERROR_TEXT")
    assert {"bad_text", "client_id_reused", "rate_limited"} <= {p["key"]["name"] for p in texts["properties"]}


def test_resends_are_bounded_and_a_short_lived_socket_keeps_the_backoff(tree):
    (resends,) = _declared(tree, "MAX_RESENDS")
    (stable,) = _declared(tree, "STABLE_AFTER_MS")
    (closed,) = _declared(tree, "CLOSE_RATE_LIMITED")
    assert 1 <= resends["value"] <= 10 and stable["value"] >= 5000 and closed["value"] == 4429
    # The open handler no longer resets the attempt counter: only a close after STABLE_AFTER_MS does.
    resets = [
        n for n in _walk(tree)
        if n.get("type") == "AssignmentExpression" and _member_name(n["left"]) == "attempt"
        and (n.get("right") or {}).get("value") == 0
    ]
    assert len(resets) == 2  # the stable close, and connectNow (the shopper acts)
    assert "STABLE_AFTER_MS" in {n.get("name") for n in _walk(_function(tree, "connect")) if n.get("type") == "Identifier"}
