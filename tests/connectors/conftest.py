"""pytest rewrites the asserts of the shipped suite too, so a failure shows its values."""

import pytest

pytest.register_assert_rewrite("connectors.testing")
