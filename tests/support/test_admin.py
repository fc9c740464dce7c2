"""The desk for agents in the admin: a user with only support.handle_escalations (not a
superuser, no model permissions) finds the workspace, their escalations and the queue, and
every link on the desk's pages opens for them."""

import re
from html import unescape

import pytest
from django.contrib.auth import get_user_model

from support.models import CannedReply, Escalation, FollowUpTicket
from tests.support.conftest import make_agent, make_conversation

pytestmark = pytest.mark.django_db

HREF = re.compile(r'href="([^"]+)"')


@pytest.fixture
def desk():
    anna = make_agent("anna")
    ben = make_agent("ben")
    mine = Escalation.objects.create(
        conversation=make_conversation("my parcel is lost"), reason="complaint", status="active", assigned_to=anna,
        summary="Complaint · parcel lost",
    )
    routed = Escalation.objects.create(
        conversation=make_conversation("talk to a person"), reason="requested", status="assigned", assigned_to=anna,
        summary="Shopper asked for a person · routed to anna",
    )
    bens = Escalation.objects.create(
        conversation=make_conversation("refund?"), reason="requested", status="active", assigned_to=ben, summary="ben's chat",
    )
    waiting = Escalation.objects.create(
        conversation=make_conversation("hello?"), reason="low_confidence", summary="Assistant unsure · waiting",
    )
    done = Escalation.objects.create(
        conversation=make_conversation("thanks"), reason="requested", status="resolved", assigned_to=anna, summary="done one",
    )
    FollowUpTicket.objects.create(conversation=waiting.conversation, escalation=waiting, email="jo@example.com")
    CannedReply.objects.get_or_create(shortcut="desk-hello", defaults={"title": "Hello", "text": "Hi, how can I help?"})
    return {"anna": anna, "mine": mine, "routed": routed, "bens": bens, "waiting": waiting, "done": done}


def _links(html: str) -> list[str]:
    return sorted({unescape(h) for h in HREF.findall(html) if h.startswith("/") and not h.startswith("/static/")})


def test_an_agents_admin_home_shows_the_workspace_their_open_escalations_and_the_queue(client, desk):
    client.force_login(desk["anna"])
    html = client.get("/admin/").content.decode()
    assert 'data-testid="desk-home"' in html
    assert 'href="/desk/workspace/"' in html
    block = html[html.index('data-testid="desk-home"'):]
    assert re.search(r'data-testid="desk-mine-count">2<', block)
    assert re.search(r'data-testid="desk-queue-count">1<', block)
    for escalation in (desk["mine"], desk["routed"], desk["waiting"]):
        assert f'href="/admin/support/escalation/{escalation.pk}/change/"' in block
    for escalation in (desk["bens"], desk["done"]):  # someone else's, and a closed one
        assert f"/admin/support/escalation/{escalation.pk}/change/" not in block
    # The app list offers the desk's tables too.
    assert 'href="/admin/support/"' in html and 'href="/admin/support/escalation/"' in html


def test_the_desk_block_links_list_exactly_the_agents_escalations_and_the_queue(client, desk):
    client.force_login(desk["anna"])
    html = client.get("/admin/").content.decode()
    mine_url = unescape(re.search(r'href="([^"]+)" data-testid="desk-mine-link"', html).group(1))
    queue_url = unescape(re.search(r'href="([^"]+)" data-testid="desk-queue-link"', html).group(1))
    mine = client.get(mine_url)
    queue = client.get(queue_url)
    assert mine.status_code == queue.status_code == 200
    assert sorted(e.pk for e in mine.context["cl"].result_list) == sorted([desk["mine"].pk, desk["routed"].pk])
    assert [e.pk for e in queue.context["cl"].result_list] == [desk["waiting"].pk]


@pytest.mark.parametrize(
    "path", ["/admin/support/", "/admin/support/escalation/", "/admin/support/followupticket/", "/admin/support/cannedreply/"]
)
def test_the_desks_admin_pages_open_for_an_agent_with_only_the_workspace_permission(client, desk, path):
    assert not desk["anna"].is_superuser and list(desk["anna"].user_permissions.values_list("codename", flat=True)) == [
        "handle_escalations"
    ]
    client.force_login(desk["anna"])
    assert client.get(path).status_code == 200


def test_an_agent_sees_escalations_read_only_and_cannot_change_or_delete_them(client, desk):
    client.force_login(desk["anna"])
    change = client.get(f"/admin/support/escalation/{desk['mine'].pk}/change/")
    assert change.status_code == 200
    assert b"Anna" in change.content  # assigned agent by name, not a link to the user admin
    assert f"/admin/auth/user/{desk['anna'].pk}/".encode() not in change.content
    assert client.post(f"/admin/support/escalation/{desk['mine'].pk}/change/", {"priority": "urgent"}).status_code == 403
    assert client.get(f"/admin/support/escalation/{desk['mine'].pk}/delete/").status_code == 403
    assert client.get("/admin/support/cannedreply/add/").status_code == 403
    assert client.get("/admin/support/agentprofile/").status_code == 403


@pytest.mark.parametrize(
    "start", ["/admin/", "/admin/support/", "/desk/workspace/", "/admin/support/escalation/", "/admin/support/followupticket/"]
)
def test_every_link_on_the_desk_pages_opens_for_an_agent(client, desk, start):
    client.force_login(desk["anna"])
    page = client.get(start)
    assert page.status_code == 200
    links = _links(page.content.decode())
    assert links
    broken = {}
    for link in links:
        status = client.get(link).status_code
        if status != 200:
            broken[link] = status
    assert broken == {}


def test_the_workspace_breadcrumb_support_desk_opens_the_desk_for_an_agent(client, desk):
    client.force_login(desk["anna"])
    html = client.get("/desk/workspace/").content.decode()
    crumbs = html[html.index('class="breadcrumbs"'):]
    crumbs = crumbs[: crumbs.index("</div>")]
    target = re.search(r'<a href="([^"]+)">Support desk</a>', crumbs).group(1)
    page = client.get(target)
    assert page.status_code == 200
    assert b'data-testid="desk-home"' in page.content and b'href="/desk/workspace/"' in page.content


def test_staff_who_are_not_agents_get_no_desk(client, desk):
    clerk = get_user_model().objects.create_user(username="clerk", password="x", is_staff=True)
    client.force_login(clerk)
    assert b"desk-home" not in client.get("/admin/").content
    assert client.get("/admin/support/").status_code == 404
    assert client.get("/admin/support/escalation/").status_code == 403


def test_a_superuser_still_changes_escalations_and_sees_the_desk(client, desk):
    boss = get_user_model().objects.create_superuser(username="boss", password="x", email="boss@example.com")
    client.force_login(boss)
    assert b'data-testid="desk-home"' in client.get("/admin/").content
    assert client.get(f"/admin/support/escalation/{desk['mine'].pk}/change/").status_code == 200
    assert client.get("/admin/support/agentprofile/").status_code == 200


def test_the_workspace_links_orders_to_the_order_admin_only_for_agents_who_may_open_it(client, desk):
    from django.contrib.auth.models import Permission

    anna = desk["anna"]
    client.force_login(anna)
    assert b"data-order-links" not in client.get("/desk/workspace/").content
    assert client.get("/admin/catalog/order/").status_code == 403
    anna.user_permissions.add(Permission.objects.get(codename="view_order", content_type__app_label="catalog"))
    anna = get_user_model().objects.get(pk=anna.pk)
    client.force_login(anna)
    assert b'data-order-links="1"' in client.get("/desk/workspace/").content
    assert client.get("/admin/catalog/order/").status_code == 200
