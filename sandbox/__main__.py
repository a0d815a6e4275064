"""python -m sandbox --port 8090 [--namespace URI] [--fault-rate 0.2 --fault-kinds all --seed 7]"""

from __future__ import annotations

import argparse

from .accounts import Account
from .contract import DEFAULT_NAMESPACE, check_namespace
from .faults import FaultKind, FaultPlan
from .server import serve


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m sandbox",
        description="The InfinitePay sandbox: the SOAP protocol, a ledger, personas and faults.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8090)
    parser.add_argument(
        "--namespace",
        default=DEFAULT_NAMESPACE,
        help=f"the contract's target namespace (default: {DEFAULT_NAMESPACE})",
    )
    defaults = Account()
    parser.add_argument("--client-reference", default=defaults.client_reference)
    parser.add_argument("--username", default=defaults.username)
    parser.add_argument("--password", default=defaults.password)
    parser.add_argument("--secret", default=defaults.secret)
    parser.add_argument("--fault-rate", type=float, default=0.0, help="share of calls, 0..1")
    parser.add_argument(
        "--fault-kinds",
        default="all",
        help=f"comma-separated, of: {', '.join(FaultKind)} (default: all)",
    )
    parser.add_argument("--seed", type=int, default=0, help="makes the faults reproducible")
    parser.add_argument("--latency-ms", type=int, default=500, help="delay of a latency fault")
    parser.add_argument(
        "--timeout-s", type=float, default=60.0, help="delay of a timeout fault (> client's)"
    )
    parser.add_argument(
        "--wsdl-delay-s", type=float, default=5.0, help="delay of a wsdl_slow fault"
    )
    args = parser.parse_args(argv)

    kinds = list(FaultKind) if args.fault_kinds == "all" else args.fault_kinds.split(",")
    try:
        plan = FaultPlan.from_json(
            {
                "rate": args.fault_rate,
                "kinds": kinds,
                "seed": args.seed,
                "latency_ms": args.latency_ms,
                "timeout_s": args.timeout_s,
                "wsdl_delay_s": args.wsdl_delay_s,
            }
        )
        check_namespace(args.namespace)
    except ValueError as error:
        parser.error(str(error))
    account = Account(
        client_reference=args.client_reference,
        username=args.username,
        password=args.password,
        secret=args.secret,
    )
    serve(host=args.host, port=args.port, account=account, plan=plan, namespace=args.namespace)


if __name__ == "__main__":
    main()
