from tests.support.ops import office  # noqa: F401  (fixture)
