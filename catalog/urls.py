from django.urls import path

from . import account_views as account
from . import invoices, views

app_name = "catalog"

urlpatterns = [
    path("", views.home, name="home"),
    path("c/<slug:slug>/", views.category_detail, name="category"),
    path("p/<slug:slug>/", views.product_detail, name="product"),
    path("search/", views.search, name="search"),
    path("help/", views.article_list, name="articles"),
    path("help/<slug:slug>/", views.article_detail, name="article"),
    path("newsletter/confirm/<str:token>/", views.newsletter_confirm, name="newsletter_confirm"),
    path("invoice/<str:token>/", invoices.invoice_view, name="invoice"),
    path("newsletter/unsubscribe/<str:token>/", views.newsletter_unsubscribe, name="newsletter_unsubscribe"),
    # Shopper accounts (catalog/account_views.py)
    path("account/sign-in/", account.sign_in, name="sign_in"),
    path("account/sign-out/", account.sign_out, name="sign_out"),
    path("account/sign-up/", account.sign_up, name="sign_up"),
    path("account/confirm/<str:token>/", account.verify_email, name="account_verify"),
    path("account/confirm-again/", account.verify_email_resend, name="account_verify_resend"),
    path("account/password-reset/", account.password_reset, name="password_reset"),
    path("account/password-reset/sent/", account.password_reset_done, name="password_reset_done"),
    path("account/password-reset/<uidb64>/<token>/", account.password_reset_confirm, name="password_reset_confirm"),
    path("account/password-reset/done/", account.password_reset_complete, name="password_reset_complete"),
    path("account/orders/", account.my_orders, name="my_orders"),
    path("account/orders/<str:number>/", account.order_detail, name="my_order"),
    path("account/orders/<str:number>/return/", account.order_return_start, name="my_order_return"),
    path("account/orders/<str:number>/invoice/", account.order_invoice, name="my_order_invoice"),
]
