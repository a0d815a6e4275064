from django.urls import path

from . import views

app_name = "checkout"

urlpatterns = [
    path("", views.product_list, name="home"),
    path("cart/", views.cart, name="cart"),
    path("cart/add/<int:product_id>/", views.add_to_cart, name="add_to_cart"),
    path("checkout/billing/", views.billing, name="billing"),
    path("checkout/shipping/", views.shipping, name="shipping"),
    path("checkout/shipping-method/", views.shipping_method, name="shipping_method"),
    path("checkout/payment/", views.payment, name="payment"),
    path("checkout/review/", views.review, name="review"),
    path("checkout/place-order/", views.place_order, name="place_order"),
    path("orders/", views.order_list, name="order_list"),
    path("orders/<str:number>/", views.order_detail, name="order_detail"),
    path("orders/<str:number>/placed/", views.order_placed, name="order_placed"),
    path("orders/<str:number>/status/", views.order_status, name="order_status"),
    path("orders/<str:number>/pay/", views.pay_again, name="pay_again"),
]
