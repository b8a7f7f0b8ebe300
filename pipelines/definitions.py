"""The Dagster code location: the UI (`mentorscope ui`) and the CLI load this same graph."""

from pipelines.assembly import build_definitions
from pipelines.settings import RunSettings

defs = build_definitions(RunSettings.from_env())
