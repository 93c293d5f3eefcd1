from tests.support.fixtures_netlab import *  # noqa: F401,F403
