"""Adapters: real-world export formats to canonical contract tables, as pure functions.

Every adapter returns all-Utf8 frames with canonical column names (plus `_source_row`) and a
list of `Rejection`s for what it could not use, so the ingest types and quarantines adapter
output exactly like a landed CSV. See docs/mapping.md.
"""

from models.adapters.calendar import (
    EventInfo,
    ics_to_meetings,
    meetings_to_ics,
    pair_resolver,
    summary_pattern_resolver,
)
from models.adapters.dates import (
    parse_date_any,
    parse_number_any,
    parse_time_any,
    parse_timestamp_any,
)
from models.adapters.mapping import (
    Mapping,
    MappingError,
    apply_constants,
    apply_date_formats,
    apply_recodes,
    apply_renames,
    apply_table_mapping,
    load_mapping,
)
from models.adapters.rejection import Rejection
from models.adapters.survey_formats import SurveyFormatError, detect_survey_format, read_survey
from models.adapters.surveys import SurveyMapping, SurveyMappingError, survey_to_long
from models.adapters.text_table import read_text_table, sniff

__all__ = [
    "EventInfo",
    "Mapping",
    "MappingError",
    "Rejection",
    "SurveyFormatError",
    "SurveyMapping",
    "SurveyMappingError",
    "apply_constants",
    "apply_date_formats",
    "apply_recodes",
    "apply_renames",
    "apply_table_mapping",
    "detect_survey_format",
    "ics_to_meetings",
    "load_mapping",
    "meetings_to_ics",
    "pair_resolver",
    "parse_date_any",
    "parse_number_any",
    "parse_time_any",
    "parse_timestamp_any",
    "read_survey",
    "read_text_table",
    "sniff",
    "summary_pattern_resolver",
    "survey_to_long",
]
