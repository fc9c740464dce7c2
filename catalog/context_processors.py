"""What every storefront page needs: the shop's name, its category navigation and its support hours.

The database values are lazy, so pages that never show them (the admin) cost no query.
"""

from django.conf import settings
from django.db.models import Count, Q
from django.utils.functional import SimpleLazyObject


def _nav_categories():
    from .models import Category

    from .translations import localize

    return localize(
        Category.objects.filter(parent__isnull=True)
        .annotate(active_products=Count("products", filter=Q(products__is_active=True)))
        .filter(active_products__gt=0)
        .order_by("pk")
    )


def _support():
    from .models import ShopPolicy

    policy = ShopPolicy.objects.filter(pk=1).first() or ShopPolicy()  # unsaved defaults: a page view never writes
    return {"hours": policy.support_hours, "email": policy.support_email, "return_window_days": policy.return_window_days}


def shop(request):
    return {
        "SHOP_NAME": settings.SHOP_NAME,
        "nav_categories": SimpleLazyObject(_nav_categories),
        "shop_support": SimpleLazyObject(_support),
    }
