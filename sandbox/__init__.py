"""The InfinitePay sandbox: a small web app that speaks InfinitePay's protocol for dev and tests.

Run it with `python -m sandbox --port 8090`, or in-process with
`sandbox.server.start_in_thread()`; see docs/sandbox.md. It needs no Django.
"""
