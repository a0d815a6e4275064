"""What every app's demo data shares."""

# The password of every login the demo data creates (`seed_demo`: setup, admin, ops, the buyer and
# the sandbox personas' buyers) and of the tests' buyers. Published in the README: never
# give it to a real account.
DEMO_PASSWORD = "demo-pass-2026"
