"""A SOAP client that is not ours speaks to the sandbox: zeep, given nothing but ?wsdl.

It brings its own WS-Security (zeep's UsernameToken, PasswordText, with a wsu Timestamp)
and computes SECURITY_CD from the published recipe. The same run passes under a second
target namespace, which the client learns from the WSDL alone.
"""

import base64
import hashlib
import hmac
from datetime import UTC, datetime, timedelta

import pytest
import zeep
from zeep.exceptions import Fault
from zeep.transports import Transport
from zeep.wsse import utils
from zeep.wsse.username import UsernameToken

from sandbox.accounts import Account
from sandbox.contract import DEFAULT_NAMESPACE

ACCOUNT = Account()
SECOND_NAMESPACE = "https://guarantees.example.org/ws/InfinitePayAPI/v2"


class TimestampedUsernameToken(UsernameToken):
    """zeep's UsernameToken with a fresh wsu:Timestamp on every call, as Oro's filter sends."""

    def apply(self, envelope, headers):
        created = datetime.now(UTC).replace(microsecond=0)
        self.timestamp_token = utils.WSU.Timestamp(
            utils.WSU.Created(created.strftime("%Y-%m-%dT%H:%M:%S.000Z")),
            utils.WSU.Expires(
                (created + timedelta(seconds=600)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
            ),
        )
        return super().apply(envelope, headers)


def security_code(order_id: str) -> str:
    digest = hmac.new(
        ACCOUNT.secret.encode(), (ACCOUNT.client_reference + order_id).encode(), hashlib.sha256
    ).hexdigest()
    return base64.b64encode(digest.encode()).decode()


def client_data(order_id: str) -> dict:
    return {"CLIENT_REF": ACCOUNT.client_reference, "SECURITY_CD": security_code(order_id)}


def foreign_client(wsdl_url: str) -> zeep.Client:
    return zeep.Client(
        wsdl_url,
        wsse=TimestampedUsernameToken(ACCOUNT.username, ACCOUNT.password),
        transport=Transport(timeout=10, operation_timeout=10),
    )


def reserve_request(order_id: str) -> dict:
    return {
        "BANK_DATA": {},
        "CLIENT_DATA": client_data(order_id),
        "DEBTOR_DATA": {
            "COMPANY_DATA": {"COM_ID_VAT": "DE811907980", "COMPANY_NAME": "Fremd Werkzeug GmbH"},
            "BD_CITY": "Hamburg",
            "BD_COUNTRY": "DEU",
            "BD_EMAIL": "einkauf@fremd.example",
            "BD_NAME_FS": "Fritz",
            "BD_NAME_LS": "Fremd",
            "BD_SALUT": "na",
            "BD_STREET": "Hafenstraße 7",
            "BD_ZIP": "20457",
            "COM_OR_PER": "gmbh",
            "DB_NEW": "1",
            "IP_ADD": "198.51.100.4",
            "ISP": "pool.example.net",
            "NEG_PAY_HIST": "0",
        },
        "ARTICLES": {
            "ARTICLE": [
                {
                    "ARTICLE_ID": "DRILL-1",
                    "ARTICLE_NAME": "Drill",
                    "ARTICLE_PRICE_GROSS": "59850",
                    "ARTICLE_PRICE_NET": "50294",
                    "ARTICLE_QUANTITY": "2",
                    "ARTICLE_VAT_PERC": "1900",
                }
            ]
        },
        "ORDER_DATA": {"AUTO_ACTIVATE": "0", "AUTO_CAPTURE": "0", **totals(order_id)},
        "SHIPPING_DATA": {"USE_BILL_DATA": "1"},  # nothing else of the shipping data
    }


def totals(order_id: str) -> dict:
    return {
        "ORDER_ID": order_id,
        "PAY_TYPE": "1",
        "RABATE_GROSS": "0",
        "RABATE_NET": "0",
        "SHIPPING_PRICE_GROSS": "0",
        "SHIPPING_PRICE_NET": "0",
        "TERMS_ACCEPTED": "1",
        "TRS_AMT_GROSS": "119700",
        "TRS_AMT_NET": "100588",
        "TRS_CURRENCY": "EUR",
        "TRS_DT": datetime.now().strftime("%Y%m%d %H%M%S"),
        "TOTAL_GROSS_CALC_METHOD": "3",
    }


@pytest.mark.parametrize("namespace", [DEFAULT_NAMESPACE, SECOND_NAMESPACE])
def test_zeep_runs_every_operation_from_the_wsdl_alone(sandbox, namespace):
    before = foreign_client(sandbox.wsdl_url)  # loaded while the default namespace is served
    sandbox.set_namespace(namespace)
    client = foreign_client(sandbox.wsdl_url)
    service = client.service
    reserve_action = service._binding._operations["reserveOrder"].soapaction
    assert reserve_action == f"{namespace}/reserveOrder"

    reserved = service.reserveOrder(REQUEST=reserve_request("F-1"))
    assert reserved.RESPONSE_DATA.STATUS == "1"
    assert reserved.RESPONSE_DATA.ORDER_ID == "F-1"
    assert reserved.RESPONSE_DATA.GUAR_AMT == 119700
    ref_no = reserved.RESPONSE_DATA.REF_NO
    assert isinstance(ref_no, int)
    assert reserved.DEBTOR_CORRECTED_DATA.C_STREET == "Hafenstraße"
    assert reserved.DEBTOR_CORRECTED_DATA.C_STREET_NO == "7"

    captured = service.captureOrder(
        REQUEST={"CLIENT_DATA": client_data("F-1"), "ORDER_DATA": totals("F-1")}
    )
    assert (captured.STATUS, captured.ORDER_ID) == ("1", "F-1")
    assert ref_no == captured.REF_NO
    assert captured.RESPONSE_DATA.ADD_INFO == "CAPTURED"

    activation_totals = totals("F-1")
    del activation_totals["ORDER_ID"]  # as Oro sends it: the order is found by INVOICE_ID
    activated = service.activateOrder(
        REQUEST={
            "CLIENT_DATA": client_data("F-1"),
            "INVOICE_DATA": {
                "DELAY_IN_DAYS": "0",
                "DELIVERY_DATE": "20260121",
                "DUE_DATE": "20260130",
                "INVOICE_DATE": "20260101",
                "INVOICE_ID": "F-1",
                "PAYMENT_TERMS": "30",
            },
            "ORDER_DATA": activation_totals,
        }
    )
    assert (activated.STATUS, activated.RESPONSE_DATA.ADD_INFO) == ("1", "ACTIVATED")
    assert activated.GUAR_AMT == 119700.0

    applied = service.applyTransactionOnActivatedOrder(
        REQUEST={
            "CLIENT_DATA": client_data("F-1"),
            "ORDER_DATA": {"ORDER_ID": "F-1", "REF_NO": str(ref_no)},
        }
    )
    assert applied.RESPONSE_DATA.STATUS == "1"
    assert (applied.TRS_AMT, applied.TRS_CURRENCY) == (119700.0, "EUR")
    assert ref_no == applied.REF_NO
    assert isinstance(applied.ACCOUNTING_DT, datetime)

    status = service.checkStatusOrder(
        REQUEST={"CLIENT_DATA": client_data("F-1"), "ORDER_DATA": {"ORDER_ID": "F-1"}}
    )
    assert (status.STATUS, status.RESPONSE_DATA.ADD_INFO) == ("1", "SETTLED")
    assert ref_no == status.REF_NO

    assert service.reserveOrder(REQUEST=reserve_request("F-2")).RESPONSE_DATA.STATUS == "1"
    canceled = service.cancelOrder(
        REQUEST={"CLIENT_DATA": client_data("F-2"), "ORDER_DATA": {"ORDER_ID": "F-2"}}
    )
    assert (canceled.STATUS, canceled.RESPONSE_DATA.ADD_INFO) == ("1", "CANCELED")

    assert sandbox.order("F-1")["state"] == "SETTLED"
    assert sandbox.order("F-2")["state"] == "CANCELED"
    assert sandbox.debtor("DE811907980")["reserved"] == "0.00"
    assert sandbox.calls()["operations"] == {
        "reserveOrder": 2,
        "captureOrder": 1,
        "activateOrder": 1,
        "applyTransactionOnActivatedOrder": 1,
        "checkStatusOrder": 1,
        "cancelOrder": 1,
    }

    if namespace != DEFAULT_NAMESPACE:
        # A client holding the old WSDL speaks a namespace the sandbox no longer serves.
        with pytest.raises(Fault) as refused:
            before.service.checkStatusOrder(
                REQUEST={"CLIENT_DATA": client_data("F-1"), "ORDER_DATA": {"ORDER_ID": "F-1"}}
            )
        assert refused.value.code == "soapenv:Client"


def test_zeep_sees_credential_failures_as_ws_security_faults(sandbox):
    client = zeep.Client(
        sandbox.wsdl_url, wsse=TimestampedUsernameToken(ACCOUNT.username, "not-the-password")
    )

    with pytest.raises(Fault) as failed:
        client.service.checkStatusOrder(
            REQUEST={"CLIENT_DATA": client_data("F-1"), "ORDER_DATA": {"ORDER_ID": "F-1"}}
        )

    assert failed.value.code == "wsse:FailedAuthentication"
