from tests.support.fake_slack import fake_slack  # noqa: F401  (fixture for the self-tests)
