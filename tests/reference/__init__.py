"""Reference implementations that only tests use: the whole-table forms the production code's
bounded-memory paths are checked against."""
