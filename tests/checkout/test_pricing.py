"""Order totals: VAT per rate on the net sum, cents rounded half up, discount and shipping."""

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from checkout.pricing import PricedLine, compute_totals

D = Decimal


def line(price: str, quantity: int = 1, rate: str = "0.19", sku: str = "X") -> PricedLine:
    return PricedLine(sku=sku, name=sku, quantity=quantity, unit_net=D(price), vat_rate=D(rate))


def test_mixed_rates_are_taxed_per_rate_and_shipping_at_the_highest():
    totals = compute_totals([line("4.90", 3, "0.19"), line("18.50", 2, "0.07")], shipping=D("9.90"))
    assert totals.subtotal == D("51.70")
    assert [(v.rate, v.taxable, v.vat) for v in totals.vat] == [
        (D("0.07"), D("37.00"), D("2.59")),
        (D("0.19"), D("24.60"), D("4.67")),  # 14.70 + 9.90 shipping; 4.674 → 4.67
    ]
    assert totals.vat_total == D("7.26")
    assert totals.shipping_gross == D("11.78")  # 9.90 × 1.19 = 11.781
    assert totals.total == D("68.86")


def test_cents_round_half_up_not_to_even():
    # 1.50 × 7 % = 0.105: half up gives 0.11 where banker's rounding would give 0.10.
    totals = compute_totals([line("1.50", 1, "0.07")], shipping=D("0"))
    assert totals.vat_total == D("0.11")
    assert totals.total == D("1.61")


def test_vat_is_computed_on_the_rate_sum_not_by_adding_rounded_line_vat():
    lines = [line("0.03", 1, sku=sku) for sku in "ABC"]
    assert sum(item.vat for item in lines) == D("0.03")  # 0.0057 → 0.01, three times
    totals = compute_totals(lines, shipping=D("0"))
    assert totals.vat_total == D("0.02")  # 0.09 × 19 % = 0.0171


def test_customer_discount_is_taken_per_rate_before_vat():
    totals = compute_totals(
        [line("100.00", 1, "0.19"), line("33.33", 1, "0.07")],
        shipping=D("10.00"),
        discount_percent=D("10"),
    )
    assert totals.discount == D("13.33")  # 10.00 + 3.333 → 3.33
    assert totals.discount_gross == D("15.46")  # 11.90 + 3.56
    assert [(v.taxable, v.vat) for v in totals.vat] == [
        (D("30.00"), D("2.10")),
        (D("100.00"), D("19.00")),  # 100 − 10 + 10 shipping
    ]
    assert totals.total == D("133.33") - D("13.33") + D("10.00") + D("21.10")


def test_an_empty_cart_costs_nothing_not_even_shipping():
    totals = compute_totals([], shipping=D("9.90"))
    assert totals.total == totals.shipping == totals.vat_total == D("0.00")
    assert totals.vat == ()


prices = st.decimals(min_value=D("0.01"), max_value=D("9999.99"), places=2)
rates = st.sampled_from([D("0.19"), D("0.07"), D("0.00"), D("0.055")])


@given(
    st.lists(
        st.tuples(prices, st.integers(min_value=1, max_value=500), rates), min_size=1, max_size=8
    ),
    st.decimals(min_value=D("0"), max_value=D("50"), places=2),
)
def test_totals_add_up_and_stay_within_a_cent_per_rate(items, discount_percent):
    lines = [line(str(p), q, str(r), sku=f"S{i}") for i, (p, q, r) in enumerate(items)]
    totals = compute_totals(lines, shipping=D("9.90"), discount_percent=discount_percent)
    for amount in (totals.subtotal, totals.discount, totals.vat_total, totals.total):
        assert amount == amount.quantize(D("0.01"))
    assert totals.total == totals.subtotal - totals.discount + totals.shipping + totals.vat_total
    exact_vat = sum((v.taxable * v.rate for v in totals.vat), D("0"))
    assert abs(totals.vat_total - exact_vat) <= D("0.005") * len(totals.vat)
