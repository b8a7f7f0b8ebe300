"""Programs as partitions: one partition per program folder of the inbox, kept by the sensor."""

import dagster as dg

PROGRAMS = "programs"
programs = dg.DynamicPartitionsDefinition(name=PROGRAMS)
